module github.com/vigil-db/vigil/services/analyzer

go 1.26
