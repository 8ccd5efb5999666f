module github.com/vigil-db/vigil/services/analyzer

go 1.26

require (
	github.com/vigil-db/vigil/pkg v0.0.0
	github.com/vigil-db/vigil/proto v0.0.0
)

replace (
	github.com/vigil-db/vigil/pkg => ../../pkg
	github.com/vigil-db/vigil/proto => ../../proto
)
