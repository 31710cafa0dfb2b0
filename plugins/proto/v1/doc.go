// Package pluginv1 is version 1 of the protocol between the hookflow daemon
// and its plugins: the generated gRPC service ActionPlugin (Describe and
// Execute) and the go-plugin handshake constants both sides share.
//
// The source of truth is plugins/proto/hookflow/plugin/v1/plugin.proto; the
// *.pb.go files are generated from it with `go generate` (see
// docs/plugins.md). Plugin authors use the sdk package instead of this one;
// the host side lives in package plugins.
//
//	conn, _ := grpc.NewClient(...)
//	c := pluginv1.NewActionPluginClient(conn)
//	d, err := c.Describe(ctx, &pluginv1.DescribeRequest{
//		HostProtocolVersions: []uint32{pluginv1.ProtocolVersion},
//	})
//
// Caveat: the package path carries the version. An incompatible change is a
// new package (v2) and a new go-plugin protocol version, never an edit here.
package pluginv1
