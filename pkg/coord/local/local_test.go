package local

import (
	"testing"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/coord/coordtest"
)

func TestContract(t *testing.T) {
	coordtest.Run(t, coordtest.Backend{
		New: func(t *testing.T) coord.Coordinator {
			c := New()
			t.Cleanup(func() { c.Close() })
			return c
		},
		// One process has no lease to lose: a session ends when closed.
		Lose: func(_ *testing.T, s coord.Session) { s.Close() },
	})
}
