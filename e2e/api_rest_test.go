package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rest calls the gateway and decodes a JSON answer.
func rest(t *testing.T, s *stack, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, s.gateway+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: status %d, body is not JSON: %q", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

func TestRESTRoundTrips(t *testing.T) {
	s, topo := apiStack(t)
	m, r1 := topo.Master().Key, topo.Instance("r1").Key
	hostPort := func(k string) string { return strings.Replace(k, ":", "/", 1) }
	waitForStored(t, s, r1, m) // a downtime is only for an instance Vigil knows

	cases := []struct {
		method, path, body string
		status             int
		check              func(t *testing.T, body map[string]any)
	}{
		{"GET", "/api/v1/clusters", "", 200, func(t *testing.T, b map[string]any) {
			c := b["clusters"].([]any)[0].(map[string]any)
			if c["name"] != m || c["alias"] != "orders" {
				t.Errorf("cluster = %v", c)
			}
		}},
		{"GET", "/api/v1/clusters/orders", "", 200, func(t *testing.T, b map[string]any) {
			if b["cluster"].(map[string]any)["name"] != m {
				t.Errorf("body = %v", b)
			}
		}},
		{"GET", "/api/v1/clusters/orders/topology", "", 200, func(t *testing.T, b map[string]any) {
			if !strings.Contains(b["text"].(string), r1) {
				t.Errorf("text = %v", b["text"])
			}
		}},
		{"GET", "/api/v1/clusters/orders/master", "", 200, func(t *testing.T, b map[string]any) {
			if key := b["master"].(map[string]any)["key"].(map[string]any); key["port"] != float64(topo.Master().Port) {
				t.Errorf("master = %v", key)
			}
		}},
		{"GET", "/api/v1/instances?cluster=orders&page_size=2", "", 200, func(t *testing.T, b map[string]any) {
			if len(b["instances"].([]any)) != 2 || b["next_page_token"] == "" {
				t.Errorf("page = %v", b)
			}
		}},
		{"GET", "/api/v1/instances?pattern=" + r1, "", 200, func(t *testing.T, b map[string]any) {
			if len(b["instances"].([]any)) != 1 {
				t.Errorf("matches = %v", b["instances"])
			}
		}},
		{"GET", "/api/v1/instances/" + hostPort(r1), "", 200, func(t *testing.T, b map[string]any) {
			inst := b["instance"].(map[string]any)
			if inst["role"] != "ROLE_REPLICA" || inst["replicating"] != true {
				t.Errorf("instance = %v", inst)
			}
		}},
		{"GET", "/api/v1/instances/" + hostPort(r1) + "/master", "", 200, nil},
		{"GET", "/api/v1/instances/" + hostPort(m) + "/replicas", "", 200, func(t *testing.T, b map[string]any) {
			if len(b["replicas"].([]any)) != 2 {
				t.Errorf("replicas = %v", b["replicas"])
			}
		}},
		{"GET", "/api/v1/instances/" + hostPort(r1) + "/cluster", "", 200, func(t *testing.T, b map[string]any) {
			if b["cluster"].(map[string]any)["alias"] != "orders" {
				t.Errorf("cluster = %v", b)
			}
		}},
		{"POST", "/api/v1/instances/" + hostPort(m) + ":discover", "", 200, func(t *testing.T, b map[string]any) {
			if b["snapshot"].(map[string]any)["reachable"] != true {
				t.Errorf("snapshot = %v", b)
			}
		}},
		{"POST", "/api/v1/recovery-mode", `{"enabled": false, "requested_by": "bob"}`, 200, func(t *testing.T, b map[string]any) {
			if b["global_recoveries"].(map[string]any)["updated_by"] != "bob" {
				t.Errorf("body = %v", b)
			}
		}},
		{"GET", "/api/v1/recovery-mode", "", 200, func(t *testing.T, b map[string]any) {
			if _, enabled := b["global_recoveries"].(map[string]any)["enabled"]; enabled {
				t.Errorf("recoveries still enabled: %v", b)
			}
		}},

		{"GET", "/api/v1/analysis?cluster=orders", "", 200, nil},
		{"GET", "/api/v1/detections?cluster=orders&page_size=10", "", 200, nil},
		{"POST", "/api/v1/instances/" + hostPort(r1) + "/downtime", `{"duration": "3600s", "owner": "carol", "reason": "disk swap"}`, 200, func(t *testing.T, b map[string]any) {
			if b["downtime"].(map[string]any)["owner"] != "carol" {
				t.Errorf("body = %v", b)
			}
		}},
		{"GET", "/api/v1/downtimes", "", 200, func(t *testing.T, b map[string]any) {
			if len(b["downtimes"].([]any)) != 1 {
				t.Errorf("downtimes = %v", b)
			}
		}},
		{"DELETE", "/api/v1/instances/" + hostPort(r1) + "/downtime", "", 200, nil},
		{"DELETE", "/api/v1/instances/" + hostPort(r1) + "/downtime", "", 404, nil},
		{"PUT", "/api/v1/instances/" + hostPort(r1) + "/promotion-rule", `{"promotion_rule": "PROMOTION_RULE_PREFER", "requested_by": "carol"}`, 200, func(t *testing.T, b map[string]any) {
			if r := b["registration"].(map[string]any); r["promotion_rule"] != "PROMOTION_RULE_PREFER" || r["requested_by"] != "carol" {
				t.Errorf("registration = %v", r)
			}
		}},
		{"GET", "/api/v1/candidates", "", 200, func(t *testing.T, b map[string]any) {
			if len(b["registrations"].([]any)) != 1 {
				t.Errorf("registrations = %v", b)
			}
		}},
		{"GET", "/api/v1/clusters/orders/readiness", "", 200, func(t *testing.T, b map[string]any) {
			// Recoveries were disabled above.
			if r := b["readiness"].(map[string]any); r["cluster"] != m || r["gate"] != "global-disabled" || r["would_promote"] == nil {
				t.Errorf("readiness = %v", r)
			}
		}},
		{"GET", "/api/v1/clusters/orders/explain", "", 200, func(t *testing.T, b map[string]any) {
			if b["readiness"] == nil {
				t.Errorf("explain = %v", b)
			}
		}},
		{"GET", "/api/v1/discovery/members", "", 200, func(t *testing.T, b map[string]any) {
			ms, _ := b["members"].([]any)
			if len(ms) != 1 || b["coordinated"] != true {
				t.Fatalf("members = %v", b)
			}
			if m := ms[0].(map[string]any); m["member_id"] != b["answered_by"] || m["owned_instances"] != float64(3) || m["addr"] == "" {
				t.Errorf("member = %v", m)
			}
		}},
		{"GET", "/api/v1/instances/" + hostPort(m), "", 200, func(t *testing.T, b map[string]any) {
			obs, _ := b["instance"].(map[string]any)["observers"].([]any)
			if len(obs) != 1 || obs[0].(map[string]any)["reachable"] != true {
				t.Errorf("observers = %v", obs)
			}
		}},

		// Bad input: clear JSON errors with the right codes, never a 500.
		{"GET", "/api/v1/analysis?cluster=nope", "", 404, nil},
		{"GET", "/api/v1/analysis?instance.host=db1&instance.port=0", "", 400, nil},
		{"GET", "/api/v1/detections?page_size=-1", "", 400, nil},
		{"GET", "/api/v1/detections?page_token=garbage!", "", 400, nil},
		{"POST", "/api/v1/instances/" + hostPort(r1) + "/downtime", `{"duration": "-5s"}`, 400, nil},
		{"POST", "/api/v1/instances/" + hostPort(r1) + "/downtime", `{"duration": "soon"}`, 400, nil},
		{"POST", "/api/v1/instances/10.0.0.1/3306/downtime", `{"duration": "3600s"}`, 404, nil},
		{"GET", "/api/v1/clusters/nope", "", 404, nil},
		{"GET", "/api/v1/instances/10.0.0.1/3306", "", 404, nil},
		{"GET", "/api/v1/instances/db1/abc", "", 400, nil},
		{"GET", "/api/v1/instances/db1/0", "", 400, nil},
		{"GET", "/api/v1/instances/db1/70000", "", 400, nil},
		{"GET", "/api/v1/instances?page_size=-5", "", 400, nil},
		{"GET", "/api/v1/instances/" + hostPort(m) + "/master", "", 404, nil},
		{"DELETE", "/api/v1/instances/10.0.0.1/3306", "", 404, nil},
		{"POST", "/api/v1/instances/127.0.0.1/1:discover", "", 400, nil},
		{"POST", "/api/v1/recovery-mode", `{"enabled": "maybe"}`, 400, nil},
		{"PUT", "/api/v1/instances/" + hostPort(r1) + "/promotion-rule", `{"promotion_rule": "PROMOTION_RULE_UNSPECIFIED"}`, 400, nil},
		{"PUT", "/api/v1/instances/" + hostPort(r1) + "/promotion-rule", `{"promotion_rule": "PROMOTION_RULE_PREFER", "duration": "-1s"}`, 400, nil},
		{"PUT", "/api/v1/instances/10.0.0.1/3306/promotion-rule", `{"promotion_rule": "PROMOTION_RULE_PREFER"}`, 404, nil},
		{"POST", "/api/v1/clusters/nope:gracefulMasterTakeover", `{}`, 404, nil},
		{"POST", "/api/v1/clusters/orders:gracefulMasterTakeover", `{"designated": {"host": "10.0.0.1", "port": 3306}}`, 400, nil},
		{"POST", "/api/v1/clusters/orders:gracefulMasterTakeover", `{"designated": {"host": "10.0.0.1", "port": 0}}`, 400, nil},
		{"POST", "/api/v1/clusters/orders:forceMasterTakeover", `{}`, 400, nil},
		{"POST", "/api/v1/clusters/nope:forceMasterFailover", `{}`, 404, nil},
		{"POST", "/api/v1/instances/" + hostPort(m) + ":recover", `{}`, 400, nil},
		{"GET", "/api/v1/clusters/nope/readiness", "", 404, nil},
		{"GET", "/api/v1/clusters/nope/explain", "", 404, nil},
		{"DELETE", "/api/v1/clusters/nope", "", 404, nil},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, body := rest(t, s, tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d; body %v", status, tc.status, body)
			}
			if status >= 400 && body["message"] == "" {
				t.Errorf("error without message: %v", body)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}

	t.Run("openapi", func(t *testing.T) {
		status, body := rest(t, s, "GET", "/openapi.json", "")
		if status != 200 || body["paths"].(map[string]any)["/api/v1/clusters"] == nil {
			t.Errorf("openapi: %d %v", status, body["paths"])
		}
	})
	t.Run("readyz", func(t *testing.T) {
		if status, body := rest(t, s, "GET", "/readyz", ""); status != 200 {
			t.Errorf("readyz: %d %v", status, body)
		}
	})
}
