// Package etcd is the coordinator of Vigil processes on several machines,
// on an etcd cluster: sessions are leases, locks are etcd's concurrency
// mutexes, and a lock's fencing token is the revision at which its key was
// created. Every key lives under the namespace "/vigil/<namespace>/".
package etcd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/vigil-db/vigil/pkg/coord"
)

// Coordinator is a coordinator on etcd.
type Coordinator struct {
	client *clientv3.Client
	prefix string
	owned  bool // Close closes client
}

// New returns a coordinator that keeps its keys under /vigil/<namespace>/
// on client. Closing it does not close client.
func New(client *clientv3.Client, namespace string) *Coordinator {
	return &Coordinator{client: client, prefix: "/vigil/" + namespace + "/"}
}

// Dial connects to the etcd cluster at endpoints and returns a coordinator
// under namespace that closes its client on Close.
func Dial(endpoints []string, namespace string) (*Coordinator, error) {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		// Reconnect within a second of etcd coming back, however long it
		// was away: gRPC's default backoff grows to two minutes, and a
		// member that reconnects late finds its lease expired.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: time.Second,
		})},
	})
	if err != nil {
		return nil, fmt.Errorf("etcd %v: %w", endpoints, err)
	}
	c := New(client, namespace)
	c.owned = true
	return c, nil
}

// NewSession implements coord.Coordinator.
func (c *Coordinator) NewSession(ctx context.Context, ttl time.Duration) (coord.Session, error) {
	secs := max(1, int(math.Ceil(ttl.Seconds())))
	// The session's keep-alive lives as long as the session, not ctx.
	s, err := concurrency.NewSession(c.client, concurrency.WithTTL(secs), concurrency.WithContext(context.WithoutCancel(ctx)))
	if err != nil {
		return nil, fmt.Errorf("etcd session: %w", err)
	}
	return &session{c: c, s: s}, nil
}

// Get implements coord.Coordinator.
func (c *Coordinator) Get(ctx context.Context, key string) ([]byte, bool, error) {
	resp, err := c.client.Get(ctx, c.prefix+key)
	if err != nil {
		return nil, false, fmt.Errorf("etcd get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, false, nil
	}
	return resp.Kvs[0].Value, true, nil
}

// List implements coord.Coordinator.
func (c *Coordinator) List(ctx context.Context, prefix string) ([]coord.Event, error) {
	resp, err := c.client.Get(ctx, c.prefix+prefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, fmt.Errorf("etcd list %s: %w", prefix, err)
	}
	out := make([]coord.Event, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, coord.Event{Key: string(kv.Key[len(c.prefix):]), Value: kv.Value})
	}
	return out, nil
}

// Watch implements coord.Coordinator.
func (c *Coordinator) Watch(ctx context.Context, prefix string) <-chan coord.Event {
	out := make(chan coord.Event)
	watch := c.client.Watch(clientv3.WithRequireLeader(ctx), c.prefix+prefix, clientv3.WithPrefix())
	go func() {
		defer close(out)
		for resp := range watch {
			for _, e := range resp.Events {
				ev := coord.Event{Key: string(e.Kv.Key[len(c.prefix):]), Deleted: e.Type == clientv3.EventTypeDelete}
				if !ev.Deleted {
					ev.Value = e.Kv.Value
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// Close implements coord.Coordinator.
func (c *Coordinator) Close() error {
	if c.owned {
		return c.client.Close()
	}
	return nil
}

type session struct {
	c *Coordinator
	s *concurrency.Session

	// Locks taken through one session share its lease, and so its etcd
	// key: etcd alone would grant a name twice. held makes a second Lock
	// of a name wait for the first's Unlock; each channel is closed then.
	mu   sync.Mutex
	held map[string]chan struct{}
}

// hold waits until no lock of this session holds name, and marks it held.
func (s *session) hold(ctx context.Context, name string) error {
	for {
		s.mu.Lock()
		free, busy := s.held[name]
		if !busy {
			if s.held == nil {
				s.held = make(map[string]chan struct{})
			}
			s.held[name] = make(chan struct{})
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		select {
		case <-free:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.s.Done():
			return coord.ErrSessionDone
		}
	}
}

// release marks name free for the session's next Lock.
func (s *session) release(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.held[name]; ok {
		close(ch)
		delete(s.held, name)
	}
}

func (s *session) Done() <-chan struct{} { return s.s.Done() }

// Lease returns the session's etcd lease, for tests that revoke it.
func (s *session) Lease() clientv3.LeaseID { return s.s.Lease() }

func (s *session) Lock(ctx context.Context, name string) (coord.Lock, error) {
	select {
	case <-s.s.Done():
		return nil, coord.ErrSessionDone
	default:
	}
	if err := s.hold(ctx, name); err != nil {
		return nil, err
	}
	l, err := s.lock(ctx, name)
	if err != nil {
		s.release(name)
	}
	return l, err
}

func (s *session) lock(ctx context.Context, name string) (coord.Lock, error) {
	m := concurrency.NewMutex(s.s, s.c.prefix+name)
	// Waiting ends with ctx, or with the session: a lost lease can never
	// be granted the lock.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.s.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := m.Lock(ctx); err != nil {
		select {
		case <-s.s.Done():
			return nil, coord.ErrSessionDone
		default:
		}
		return nil, fmt.Errorf("etcd lock %s: %w", name, err)
	}
	resp, err := s.c.client.Get(ctx, m.Key())
	if err != nil || len(resp.Kvs) == 0 {
		_ = m.Unlock(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("etcd lock %s: read own key: %w", name, errors.Join(err, coord.ErrLockLost))
	}
	return &lock{c: s.c, s: s, name: name, m: m, token: resp.Kvs[0].CreateRevision}, nil
}

// Put implements coord.Session: the key is attached to the session's lease.
func (s *session) Put(ctx context.Context, key string, value []byte) error {
	select {
	case <-s.s.Done():
		return coord.ErrSessionDone
	default:
	}
	if _, err := s.c.client.Put(ctx, s.c.prefix+key, string(value), clientv3.WithLease(s.s.Lease())); err != nil {
		return fmt.Errorf("etcd put %s: %w", key, err)
	}
	return nil
}

func (s *session) Close() error {
	err := s.s.Close()
	if errors.Is(err, context.Canceled) { // the lease was already gone
		return nil
	}
	return err
}

type lock struct {
	c     *Coordinator
	s     *session
	name  string
	m     *concurrency.Mutex
	token int64
	once  sync.Once
}

func (l *lock) Token() int64 { return l.token }

// owned compares the lock key's creation revision with the token: a key
// deleted (unlocked, lease gone) or created again does not match.
func (l *lock) owned() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(l.m.Key()), "=", l.token)
}

func (l *lock) Check(ctx context.Context) error {
	resp, err := l.c.client.Txn(ctx).If(l.owned()).Commit()
	if err != nil {
		return fmt.Errorf("etcd check lock: %w", err)
	}
	if !resp.Succeeded {
		return coord.ErrLockLost
	}
	return nil
}

func (l *lock) Put(ctx context.Context, key string, value []byte) error {
	resp, err := l.c.client.Txn(ctx).If(l.owned()).Then(clientv3.OpPut(l.c.prefix+key, string(value))).Commit()
	if err != nil {
		return fmt.Errorf("etcd put %s: %w", key, err)
	}
	if !resp.Succeeded {
		return coord.ErrLockLost
	}
	return nil
}

func (l *lock) Unlock(ctx context.Context) error {
	// Delete the key only if it is still ours, so that an Unlock after a
	// lost lease never frees a later holder's lock.
	_, err := l.c.client.Txn(ctx).If(l.owned()).Then(clientv3.OpDelete(l.m.Key())).Commit()
	l.once.Do(func() { l.s.release(l.name) })
	if err != nil {
		return fmt.Errorf("etcd unlock: %w", err)
	}
	return nil
}
