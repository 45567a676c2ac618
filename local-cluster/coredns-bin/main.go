// CoreDNS with only the plugins the local cluster's Corefile uses. The stock binary links
// every plugin, cloud DNS SDKs included (route53, azure, clouddns), which triples its cold
// build time; a node-local cluster resolves only *.cluster.local names and forwards nothing.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/template"
)

// The directive order decides the order plugins run in; this is the stock order
// (core/dnsserver/zdirectives.go) restricted to the plugins linked above.
func init() {
	dnsserver.Directives = []string{"bind", "ready", "health", "errors", "cache", "template", "kubernetes"}
}

func main() { coremain.Run() }
