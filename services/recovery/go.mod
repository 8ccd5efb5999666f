module github.com/vigil-db/vigil/services/recovery

go 1.26
