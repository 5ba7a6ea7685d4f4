package datasets

import (
	"container/list"
	"sync"
)

// lruCache keeps up to cap decoded images by index, dropping the least
// recently used. It never reuses an evicted buffer, since a Fill worker may
// still be reading it; the garbage collector frees it when they are done.
// A nil or zero-capacity cache keeps nothing. Safe for concurrent use.
type lruCache struct {
	mu    sync.Mutex
	cap   int
	order *list.List // front = most recent; values are *lruEntry
	items map[int]*list.Element
}

type lruEntry struct {
	key int
	px  []uint8
}

func newLRU(capacity int) *lruCache {
	return &lruCache{cap: capacity, order: list.New(), items: map[int]*list.Element{}}
}

func (c *lruCache) get(key int) ([]uint8, bool) {
	if c == nil || c.cap <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry).px, true
}

func (c *lruCache) put(key int, px []uint8) {
	if c == nil || c.cap <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry{key, px})
	for c.order.Len() > c.cap {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*lruEntry).key)
	}
}

// len returns the number of images held.
func (c *lruCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
