// Package backend opens the coordinator a URL names.
package backend

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/coord/etcd"
	"github.com/vigil-db/vigil/pkg/coord/local"
)

// Local is the coordinator URL for one process on its own.
const Local = "local"

// Open opens the coordinator a URL names: "local", or
// etcd://host:port[,host:port...][/namespace] (namespace "default" when
// absent).
func Open(raw string) (coord.Coordinator, error) {
	if raw == Local {
		return local.New(), nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "etcd" || u.Host == "" {
		return nil, fmt.Errorf("coordinator: %q is not %q or etcd://host:port[,host:port]/namespace", raw, Local)
	}
	var endpoints []string
	for _, h := range strings.Split(u.Host, ",") {
		endpoints = append(endpoints, "http://"+h)
	}
	ns := strings.Trim(u.Path, "/")
	if ns == "" {
		ns = "default"
	}
	return etcd.Dial(endpoints, ns)
}
