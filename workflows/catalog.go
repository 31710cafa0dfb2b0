package workflows

import (
	"sync"
)

// Catalog is the daemon's view of its workflows across reloads: the current
// Set serves new events, and every version loaded since the start stays
// reachable so a run finishes with the definition it was accepted under.
//
// Versions are kept in memory only: after a restart a queued run of an
// earlier version runs with the current definition of its workflow.
type Catalog struct {
	mu       sync.RWMutex
	current  *Set
	versions map[string]*Workflow // name + "@" + version
}

// NewCatalog starts a catalog with set as the current workflows.
func NewCatalog(set *Set) *Catalog {
	c := &Catalog{versions: map[string]*Workflow{}}
	c.Swap(set)
	return c
}

// Swap makes set current. Earlier versions remain reachable by ByVersion.
func (c *Catalog) Swap(set *Set) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current = set
	for _, w := range set.workflows {
		c.versions[w.Name+"@"+w.Version] = w
	}
}

// Current returns the current set.
func (c *Catalog) Current() *Set {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.current
}

// ByName returns the current definition of a workflow, or nil.
func (c *Catalog) ByName(name string) *Workflow { return c.Current().ByName(name) }

// ByVersion returns the definition of name at version when it was loaded
// since the start, else the current one (nil when the workflow is gone).
func (c *Catalog) ByVersion(name, version string) *Workflow {
	c.mu.RLock()
	w := c.versions[name+"@"+version]
	c.mu.RUnlock()
	if w != nil {
		return w
	}
	return c.ByName(name)
}

// Workflows returns the current workflows, sorted by name.
func (c *Catalog) Workflows() []*Workflow { return c.Current().Workflows() }
