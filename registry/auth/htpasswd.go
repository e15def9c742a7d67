// Package auth is the registry's access control: htpasswd basic auth, as
// distribution's htpasswd access controller (bcrypt entries only).
package auth

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/wharf-project/wharf/registry/api/errcode"
)

// Htpasswd checks requests against an htpasswd file of bcrypt entries.
type Htpasswd struct {
	realm string
	users map[string][]byte
	// verified remembers the sha256 of passwords bcrypt accepted, so a client
	// sending the same credentials on every request pays for bcrypt once.
	mu       sync.Mutex
	verified map[string][32]byte
}

// NewHtpasswd loads the htpasswd file at path.
func NewHtpasswd(realm, path string) (*Htpasswd, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	users := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("%s:%d: not a user:hash line", path, n)
		}
		if !strings.HasPrefix(hash, "$2") {
			return nil, fmt.Errorf("%s:%d: user %q: only bcrypt entries are supported (htpasswd -B)", path, n, user)
		}
		users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return &Htpasswd{realm: realm, users: users, verified: map[string][32]byte{}}, nil
}

// dummyHash keeps the time of a failed login the same for unknown users.
// Made on first use: every wharf invocation links this package, and a
// bcrypt at init would slow them all.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("wharf"), bcrypt.DefaultCost)
	return h
})

// Authenticate reports whether user and password match an entry.
func (h *Htpasswd) Authenticate(user, password string) bool {
	hash, ok := h.users[user]
	if !ok {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	sum := sha256.Sum256([]byte(password))
	h.mu.Lock()
	known, seen := h.verified[user]
	h.mu.Unlock()
	if seen && subtle.ConstantTimeCompare(known[:], sum[:]) == 1 {
		return true
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return false
	}
	h.mu.Lock()
	h.verified[user] = sum
	h.mu.Unlock()
	return true
}

// Wrap refuses requests without valid credentials with 401 UNAUTHORIZED and
// a Basic challenge, as distribution does.
func (h *Htpasswd) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || !h.Authenticate(user, pass) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", h.realm))
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			errcode.ServeJSON(w, r, errcode.ErrorCodeUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
