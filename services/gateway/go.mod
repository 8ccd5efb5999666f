module github.com/vigil-db/vigil/services/gateway

go 1.26
