package testsuites

import (
	"errors"
	"slices"

	"github.com/wharf-project/wharf/registry/storage/driver"
)

func init() {
	tests = append(tests,
		testCase{"Stat", testStat},
		testCase{"List", testList},
		testCase{"Move", testMove},
		testCase{"MoveDirectory", testMoveDirectory},
		testCase{"Delete", testDelete},
		testCase{"DirectoryInTheWay", testDirectoryInTheWay},
		testCase{"Walk", testWalk},
		testCase{"InvalidPaths", testInvalidPaths},
	)
}

// layout stores a file at each path with its own content.
func (s *suite) layout(paths ...string) {
	s.t.Helper()
	for i, p := range paths {
		s.put(p, randomBytes(uint64(100+i), 10*(i+1)))
	}
}

func (s *suite) expectList(dir string, want ...string) {
	s.t.Helper()
	got, err := s.d.List(s.ctx, dir)
	if err != nil {
		s.t.Fatalf("List(%s): %v", dir, err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		s.t.Fatalf("List(%s) = %v, want %v", dir, got, want)
	}
}

func testStat(s *suite) {
	top := s.top()
	file := top + "/a/b/file"
	s.put(file, make([]byte, 1234))
	fi, err := s.d.Stat(s.ctx, file)
	if err != nil {
		s.t.Fatalf("Stat(file): %v", err)
	}
	if fi.IsDir() || fi.Size() != 1234 || fi.Path() != file || fi.ModTime().IsZero() {
		s.t.Fatalf("Stat(file) = {%s %d dir=%v mod=%v}", fi.Path(), fi.Size(), fi.IsDir(), fi.ModTime())
	}
	// Directories exist implicitly above what is stored.
	for _, dir := range []string{top + "/a/b", top + "/a", top, "/"} {
		fi, err := s.d.Stat(s.ctx, dir)
		if err != nil {
			s.t.Fatalf("Stat(%s): %v", dir, err)
		}
		if !fi.IsDir() || fi.Path() != dir {
			s.t.Fatalf("Stat(%s) = {%s dir=%v}, want that directory", dir, fi.Path(), fi.IsDir())
		}
	}
	s.expectNotFound(top + "/a/b/other")
	s.expectNotFound(top + "/a/b/file/below-a-file")
}

func testList(s *suite) {
	top := s.top()
	s.layout(top+"/a/1", top+"/a/2", top+"/b/x/y", top+"/c", top+"/ab/3")
	s.expectList(top, top+"/a", top+"/ab", top+"/b", top+"/c")
	// Sibling names sharing a prefix stay apart (object stores list by prefix).
	s.expectList(top+"/a", top+"/a/1", top+"/a/2")
	s.expectList(top+"/b", top+"/b/x")

	root, err := s.d.List(s.ctx, "/")
	if err != nil || !slices.Contains(root, top) {
		s.t.Fatalf("List(/) = %v, %v; want it to contain %s", root, err, top)
	}
	if _, err := s.d.List(s.ctx, top+"/missing"); !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("List(missing): got %v, want PathNotFoundError", err)
	}
	if _, err := s.d.List(s.ctx, top+"/c"); !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("List(a file): got %v, want PathNotFoundError", err)
	}
}

func testMove(s *suite) {
	top := s.top()
	src, dst := top+"/uploads/u1/data", top+"/blobs/ab/abcdef/data"
	content := randomBytes(9, 300_000)
	s.put(src, content)
	// Into a directory that does not exist yet.
	if err := s.d.Move(s.ctx, src, dst); err != nil {
		s.t.Fatalf("Move: %v", err)
	}
	s.expectContent(dst, content)
	s.expectNotFound(src)

	// Onto an existing file, which it replaces.
	s.put(src, []byte("newer"))
	if err := s.d.Move(s.ctx, src, dst); err != nil {
		s.t.Fatalf("Move onto an existing file: %v", err)
	}
	s.expectContent(dst, []byte("newer"))
	s.expectNotFound(src)

	if err := s.d.Move(s.ctx, top+"/missing", top+"/somewhere"); !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("Move of a missing source: got %v, want PathNotFoundError", err)
	}
	s.expectNotFound(top + "/somewhere")
}

func testMoveDirectory(s *suite) {
	top := s.top()
	s.layout(top+"/from/a", top+"/from/sub/b")
	if err := s.d.Move(s.ctx, top+"/from", top+"/to/here"); err != nil {
		s.t.Fatalf("Move of a directory: %v", err)
	}
	s.expectContent(top+"/to/here/a", randomBytes(100, 10))
	s.expectContent(top+"/to/here/sub/b", randomBytes(101, 20))
	if _, err := s.d.Stat(s.ctx, top+"/from"); !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("Stat(moved directory): got %v, want PathNotFoundError", err)
	}
}

func testDelete(s *suite) {
	top := s.top()
	s.layout(top+"/keep", top+"/file", top+"/tree/a", top+"/tree/b/c", top+"/tree/b/d", top+"/treetop", top+"/file2")

	if err := s.d.Delete(s.ctx, top+"/file"); err != nil {
		s.t.Fatalf("Delete(file): %v", err)
	}
	s.expectNotFound(top + "/file")

	if err := s.d.Delete(s.ctx, top+"/tree"); err != nil {
		s.t.Fatalf("Delete(tree): %v", err)
	}
	for _, p := range []string{top + "/tree", top + "/tree/a", top + "/tree/b", top + "/tree/b/c"} {
		if _, err := s.d.Stat(s.ctx, p); !isErr[driver.PathNotFoundError](err) {
			s.t.Fatalf("Stat(%s) after deleting the tree: got %v, want PathNotFoundError", p, err)
		}
	}
	// Only that path: not the siblings whose names start with it.
	s.expectList(top, top+"/file2", top+"/keep", top+"/treetop")
	s.expectContent(top+"/keep", randomBytes(100, 10))
	s.expectContent(top+"/treetop", randomBytes(105, 60))

	if err := s.d.Delete(s.ctx, top+"/tree"); !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("Delete(missing): got %v, want PathNotFoundError", err)
	}
}

func testWalk(s *suite) {
	top := s.top()
	s.layout(top+"/b/1", top+"/a/2", top+"/a/1", top+"/c", top+"/a/sub/x")

	walk := func(from string, skip string) []string {
		s.t.Helper()
		var seen []string
		err := s.d.Walk(s.ctx, from, func(fi driver.FileInfo) error {
			seen = append(seen, fi.Path())
			want := fi.Path() != top+"/c" && fi.Path() != top+"/a/1" && fi.Path() != top+"/a/2" &&
				fi.Path() != top+"/b/1" && fi.Path() != top+"/a/sub/x"
			if fi.IsDir() != want {
				s.t.Errorf("Walk: %s reported with IsDir=%v", fi.Path(), fi.IsDir())
			}
			if fi.Path() == top+"/a/1" && fi.Size() != 30 {
				s.t.Errorf("Walk: %s has size %d, want 30", fi.Path(), fi.Size())
			}
			if fi.Path() == skip {
				return driver.ErrSkipDir
			}
			return nil
		})
		if err != nil {
			s.t.Fatalf("Walk(%s): %v", from, err)
		}
		return seen
	}
	check := func(got []string, want ...string) {
		s.t.Helper()
		if !slices.Equal(got, want) {
			s.t.Fatalf("Walk visited %v, want %v", got, want)
		}
	}

	a, a1, a2, sub, x, b, b1, c := top+"/a", top+"/a/1", top+"/a/2", top+"/a/sub", top+"/a/sub/x", top+"/b", top+"/b/1", top+"/c"
	check(walk(top, ""), a, a1, a2, sub, x, b, b1, c)
	check(walk(a, ""), a1, a2, sub, x)
	// ErrSkipDir on a directory skips what is below it...
	check(walk(top, a), a, b, b1, c)
	// ...and on a file, the rest of that file's directory.
	check(walk(top, a1), a, a1, b, b1, c)

	boom := errors.New("stop here")
	err := s.d.Walk(s.ctx, top, func(fi driver.FileInfo) error {
		if fi.Path() == b {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		s.t.Fatalf("Walk did not return the WalkFn's error: %v", err)
	}
	if err := s.d.Walk(s.ctx, top+"/missing", func(driver.FileInfo) error { return nil }); !isErr[driver.PathNotFoundError](err) {
		s.t.Fatalf("Walk(missing): got %v, want PathNotFoundError", err)
	}
}

func testInvalidPaths(s *suite) {
	top := s.top()
	// Upper case and every allowed punctuation are fine.
	ok := top + "/UPPER/Case.File-_x"
	s.put(ok, []byte("ok"))
	s.expectContent(ok, []byte("ok"))

	invalid := []string{"", "relative", "relative/x", "/a//b", "/a/../b", "/a/./b", "/..", "/trailing/",
		"/space here", "/a\x00b", "/back\\slash", "/tilde~", "/ünicode", "//"}
	for _, p := range invalid {
		expect := func(op string, err error) {
			s.t.Helper()
			if !isErr[driver.InvalidPathError](err) {
				s.t.Errorf("%s(%q): got %v, want InvalidPathError", op, p, err)
			}
		}
		_, err := s.d.GetContent(s.ctx, p)
		expect("GetContent", err)
		expect("PutContent", s.d.PutContent(s.ctx, p, []byte("x")))
		_, err = s.d.Reader(s.ctx, p, 0)
		expect("Reader", err)
		_, err = s.d.Writer(s.ctx, p, false)
		expect("Writer", err)
		_, err = s.d.Stat(s.ctx, p)
		expect("Stat", err)
		_, err = s.d.List(s.ctx, p)
		expect("List", err)
		expect("Move from", s.d.Move(s.ctx, p, top+"/dst"))
		expect("Move to", s.d.Move(s.ctx, ok, p))
		expect("Delete", s.d.Delete(s.ctx, p))
		expect("Walk", s.d.Walk(s.ctx, p, func(driver.FileInfo) error { return nil }))
	}
	// The root is a directory: no content goes there, nothing moves to or from it.
	if !isErr[driver.InvalidPathError](s.d.PutContent(s.ctx, "/", []byte("x"))) {
		s.t.Error("PutContent(/) was not rejected as an invalid path")
	}
	if _, err := s.d.Writer(s.ctx, "/", false); !isErr[driver.InvalidPathError](err) {
		s.t.Errorf("Writer(/): got %v, want InvalidPathError", err)
	}
	if !isErr[driver.InvalidPathError](s.d.Move(s.ctx, ok, "/")) {
		s.t.Error("Move to / was not rejected as an invalid path")
	}
	s.expectContent(ok, []byte("ok"))
}

// testDirectoryInTheWay checks that content never silently replaces a
// directory: the files below it stay.
func testDirectoryInTheWay(s *suite) {
	top := s.top()
	s.layout(top+"/dir/file", top+"/other")
	if err := s.d.PutContent(s.ctx, top+"/dir", []byte("x")); err == nil {
		s.t.Fatal("PutContent onto a directory succeeded")
	}
	if w, err := s.d.Writer(s.ctx, top+"/dir", false); err == nil {
		w.Cancel(s.ctx)
		s.t.Fatal("Writer onto a directory succeeded")
	}
	if err := s.d.Move(s.ctx, top+"/other", top+"/dir"); err == nil {
		s.t.Fatal("Move of a file onto a directory succeeded")
	}
	if err := s.d.PutContent(s.ctx, top+"/other/below", []byte("x")); err == nil {
		s.t.Fatal("PutContent below a file succeeded")
	}
	s.expectContent(top+"/dir/file", randomBytes(100, 10))
	s.expectContent(top+"/other", randomBytes(101, 20))
	s.expectList(top, top+"/dir", top+"/other")
}
