module github.com/vigil-db/vigil/services/discovery

go 1.26
