package image

import "github.com/opencontainers/go-digest"

// ChainIDs returns the chain ID of each layer of an image, as Docker and the
// OCI image spec define it: a layer's chain ID names the whole stack below
// and including it, so equal stacks share snapshots across images.
//
//	ChainID(L0)   = DiffID(L0)
//	ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln))
func ChainIDs(diffIDs []digest.Digest) []digest.Digest {
	out := make([]digest.Digest, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		out[i] = digest.FromString(out[i-1].String() + " " + d.String())
	}
	return out
}
