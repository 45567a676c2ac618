// lua-health runs an Argo CD resource health script (health.lua) against Kubernetes objects in
// a Lua VM set up the way Argo CD's application controller sets one up for a health script
// from argocd-cm (ADR 1603): github.com/yuin/gopher-lua at the version Argo CD pins, the
// standard libraries NOT opened, only package, base and table, plus an `os` module with
// time() only, reachable through require("os") (Argo CD offers os.time and os.date that way;
// a script that passes here therefore never reaches for more than Argo CD gives it). The
// object is the global `obj`, numbers are Lua numbers, and the script gets one second, as in
// Argo CD. The script must return a table whose `status` is a health status Argo CD accepts;
// an unknown status is reported as Argo CD reports it: Unknown, "Lua returned an invalid
// health status".
//
// Usage: lua-health <health.lua> <object.yaml|json>...
// Prints one JSON line per object, {"status":…,"message":…}; exits 1 on the first object the
// script fails on (a Lua error, a non-table result), with the error on stderr, as Argo CD would
// show health Unknown with that error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

var validStatus = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

type health struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: lua-health <health.lua> <object.yaml|json>...")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	out := json.NewEncoder(os.Stdout)
	for _, path := range os.Args[2:] {
		obj, err := readObject(path)
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
		h, err := run(string(script), obj)
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
		if err := out.Encode(h); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "lua-health:", err)
	os.Exit(1)
}

func readObject(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// YAML or JSON, converted the way kubectl converts a manifest.
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("not an object")
	}
	return obj, nil
}

// newVM is the health-script VM: no standard libraries but package, base and table.
func newVM() *lua.LState {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		l.Push(l.NewFunction(lib.open))
		l.Push(lua.LString(lib.name))
		l.Call(1, 0)
	}
	l.PreloadModule(lua.OsLibName, func(l *lua.LState) int {
		l.Push(l.SetFuncs(l.NewTable(), map[string]lua.LGFunction{
			"time": func(l *lua.LState) int { l.Push(lua.LNumber(time.Now().Unix())); return 1 },
		}))
		return 1
	})
	return l
}

func run(script string, obj map[string]any) (*health, error) {
	l := newVM()
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("expect table output from Lua script, not %s", l.Get(-1).Type())
	}
	h := &health{}
	switch s := ret.RawGetString("status").(type) {
	case lua.LString:
		h.Status = string(s)
	case *lua.LNilType:
	default:
		return nil, fmt.Errorf("status is a %s, not a string", s.Type())
	}
	switch m := ret.RawGetString("message").(type) {
	case lua.LString:
		h.Message = string(m)
	case *lua.LNilType:
	default:
		return nil, fmt.Errorf("message is a %s, not a string", m.Type())
	}
	if !validStatus[h.Status] {
		return &health{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return h, nil
}

// toLua turns decoded JSON into Lua values: objects and arrays are tables (arrays 1-based),
// numbers are Lua numbers, null is nil.
func toLua(l *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case map[string]any:
		t := l.CreateTable(0, len(x))
		for k, e := range x {
			t.RawSetString(k, toLua(l, e))
		}
		return t
	case []any:
		t := l.CreateTable(len(x), 0)
		for _, e := range x {
			t.Append(toLua(l, e))
		}
		return t
	case string:
		return lua.LString(x)
	case float64:
		return lua.LNumber(x)
	case bool:
		return lua.LBool(x)
	}
	return lua.LNil
}
