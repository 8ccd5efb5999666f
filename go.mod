module github.com/vigil-db/vigil

go 1.26.0

require (
	github.com/vigil-db/vigil/pkg v0.0.0
	github.com/vigil-db/vigil/proto v0.0.0
	github.com/vigil-db/vigil/services/analyzer v0.0.0
	github.com/vigil-db/vigil/services/discovery v0.0.0
	github.com/vigil-db/vigil/services/gateway v0.0.0
	github.com/vigil-db/vigil/services/recovery v0.0.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

replace (
	github.com/vigil-db/vigil/pkg => ./pkg
	github.com/vigil-db/vigil/proto => ./proto
	github.com/vigil-db/vigil/services/analyzer => ./services/analyzer
	github.com/vigil-db/vigil/services/discovery => ./services/discovery
	github.com/vigil-db/vigil/services/gateway => ./services/gateway
	github.com/vigil-db/vigil/services/recovery => ./services/recovery
)
