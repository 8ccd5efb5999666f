package discovery

import (
	"sync"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
)

// firstPass tracks the first probe of every instance known at start. Until
// it is done, what discovery knows is incomplete, and a subscriber that took
// it for the whole picture would think the missing instances gone.
type firstPass struct {
	done chan struct{}
	once sync.Once

	mu      sync.Mutex
	started bool
	pending map[topology.InstanceKey]bool
}

func newFirstPass() *firstPass {
	return &firstPass{done: make(chan struct{}), pending: make(map[topology.InstanceKey]bool)}
}

// start waits for the first probe of each of keys, or for at most bound.
func (f *firstPass) start(keys []topology.InstanceKey, bound time.Duration) {
	f.mu.Lock()
	f.started = true
	for _, k := range keys {
		f.pending[k] = true
	}
	empty := len(f.pending) == 0
	f.mu.Unlock()
	if empty {
		f.finish()
	}
	time.AfterFunc(bound, f.finish)
}

// probed records a probe of key.
func (f *firstPass) probed(key topology.InstanceKey) {
	f.mu.Lock()
	delete(f.pending, key)
	empty := f.started && len(f.pending) == 0
	f.mu.Unlock()
	if empty {
		f.finish()
	}
}

func (f *firstPass) finish() { f.once.Do(func() { close(f.done) }) }

// Done is closed when every instance known at start was probed once, or the
// bound passed.
func (f *firstPass) Done() <-chan struct{} { return f.done }
