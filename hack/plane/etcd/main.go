// Command etcd is the upstream etcd server: a wrapper main around etcdmain,
// because `go install` refuses the replace directives of etcd's own module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
