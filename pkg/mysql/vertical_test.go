package mysql

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

var (
	verticalRowHeader = regexp.MustCompile(`^\*+ \d+\. row \*+$`)
	verticalField     = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*): ?(.*)$`)
)

// readVertical reads mysql client output in the \G vertical format
// ("*** 1. row ***" then "Name: value" lines) into rows the parsers take:
// lower-case names, NULL values absent. A line that is not "Name: value"
// continues the previous value (multi-line GTID sets). Lines before the
// first row header, such as the "mysql> ..." prompt, are skipped.
func readVertical(t testing.TB, path string) []row {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []row
	var cur row
	var last string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \r")
		switch m := verticalField.FindStringSubmatch(line); {
		case verticalRowHeader.MatchString(line):
			cur = row{}
			rows = append(rows, cur)
			last = ""
		case cur == nil, strings.Contains(line, " in set ("), strings.HasPrefix(line, "Empty set"), line == "":
		case m != nil:
			last = strings.ToLower(m[1])
			if m[2] == "NULL" {
				delete(cur, last)
			} else {
				cur[last] = m[2]
			}
		case last != "":
			cur[last] += "\n" + line
		default:
			t.Fatalf("%s: cannot read line %q", path, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// nameValues turns SHOW VARIABLES / SHOW STATUS rows into one row keyed by
// the lower-case variable name, as queryNameValues does.
func nameValues(rows []row) row {
	out := row{}
	for _, r := range rows {
		out[strings.ToLower(r["variable_name"])] = r["value"]
	}
	return out
}

func TestReadVertical(t *testing.T) {
	path := t.TempDir() + "/x.txt"
	text := "mysql> SHOW X\\G\n*************************** 1. row ***************************\n" +
		"        A_Col: 1\n        Empty:\n         Null: NULL\n          Set: aa-1:1-5,\nbb-2:1-3\n" +
		"*************************** 2. row ***************************\n        A_Col: 2\n2 rows in set (0.00 sec)\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	rows := readVertical(t, path)
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	if v, ok := rows[0]["empty"]; !ok || v != "" {
		t.Errorf("empty = %q, %v; want present and empty", v, ok)
	}
	if _, ok := rows[0]["null"]; ok {
		t.Error("NULL value present, want absent")
	}
	if got, want := rows[0]["set"], "aa-1:1-5,\nbb-2:1-3"; got != want {
		t.Errorf("set = %q, want %q", got, want)
	}
	if rows[1]["a_col"] != "2" {
		t.Errorf("row 2 a_col = %q, want 2", rows[1]["a_col"])
	}
}
