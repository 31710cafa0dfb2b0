package pluginv1

// Regenerate plugin.pb.go and plugin_grpc.pb.go from
// plugins/proto/hookflow/plugin/v1/plugin.proto (see docs/plugins.md,
// "Regenerating the protocol", for the generator versions).
//go:generate protoc --proto_path=../ --go_out=../../.. --go_opt=module=github.com/hookflow/hookflow --go-grpc_out=../../.. --go-grpc_opt=module=github.com/hookflow/hookflow hookflow/plugin/v1/plugin.proto
