package libctr

import "github.com/wharf-project/wharf/internal/jsonlite"

// DecodeStateFast is State.UnmarshalJSON's fast path alone, without the
// encoding/json fallback: whether readJSON takes all of b by itself. A
// round trip through json.Unmarshal cannot tell, since the fallback
// decodes the same bytes to the same State, only slower.
func DecodeStateFast(b []byte, s *State) bool {
	return jsonlite.Decode(b, s, (*State).readJSON)
}
