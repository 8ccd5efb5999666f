module github.com/vigil-db/vigil

go 1.26
