package registry

import (
	"encoding/json"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// linkRE matches an RFC 5988 Link header with rel="next".
var linkRE = regexp.MustCompile(`^<([^>]+)>;\s*rel="next"$`)

// nextLink returns the target of a Link rel="next" header, or "".
func nextLink(t *testing.T, r *response) string {
	t.Helper()
	link := r.header.Get("Link")
	if link == "" {
		return ""
	}
	m := linkRE.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("%s: Link %q is not <url>; rel=\"next\"", r.req, link)
	}
	return m[1]
}

// TestListingTags follows spec "Content Discovery / Listing Tags" (end-8a,
// end-8b): lexical order, n, last and the Link header.
func TestListingTags(t *testing.T) {
	_, c := startRegistry(t)
	c.distributionGap(t, "tags are listed unsorted, without n, last or Link")
	const repo = "discovery/tags"
	p := c.pushImage(repo, "", mtOCIManifest)
	tags := []string{"v1", "latest", "A-upper", "v10", "v2", "beta_1", "0.1"}
	for _, tag := range tags {
		c.pushManifest(repo, tag, mtOCIManifest, p.body)
	}
	sorted := append([]string(nil), tags...)
	sort.Strings(sorted)

	list := func(t *testing.T, query string) ([]string, string) {
		r := c.with(t).do("GET", "/v2/"+repo+"/tags/list"+query, nil).expect(t, 200)
		var body struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("%s: %v: %s", r.req, err, r.body)
		}
		if body.Name != repo {
			t.Errorf("name %q, want %q", body.Name, repo)
		}
		return body.Tags, nextLink(t, r)
	}

	cases := []struct {
		name, query string
		want        []string
		link        bool
	}{
		{"all", "", sorted, false},
		{"n", "?n=3", sorted[:3], true},
		{"n larger than the list", "?n=100", sorted, false},
		{"n and last", "?n=2&last=" + sorted[2], sorted[3:5], true},
		{"last alone", "?last=" + sorted[4], sorted[5:], false},
		{"last at the end", "?last=" + sorted[len(sorted)-1], nil, false},
		{"n=0 is empty without Link", "?n=0", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, link := list(t, tc.query)
			if len(got) != 0 || len(tc.want) != 0 {
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("tags %v, want %v", got, tc.want)
				}
			}
			if (link != "") != tc.link {
				t.Fatalf("Link %q, want one: %v", link, tc.link)
			}
		})
	}
	t.Run("following Link pages through all tags", func(t *testing.T) {
		var all []string
		next := "/v2/" + repo + "/tags/list?n=2"
		for i := 0; next != "" && i < 10; i++ {
			u, err := url.Parse(next)
			if err != nil {
				t.Fatal(err)
			}
			var page []string
			page, next = list(t, "?"+u.RawQuery)
			if len(page) > 2 {
				t.Fatalf("page of %d tags with n=2", len(page))
			}
			if next != "" && !strings.HasPrefix(u.Path, "/v2/"+repo+"/tags/list") {
				t.Fatalf("Link to %q", u.Path)
			}
			all = append(all, page...)
		}
		if !reflect.DeepEqual(all, sorted) {
			t.Fatalf("paged tags %v, want %v", all, sorted)
		}
	})
	t.Run("unknown repository is 404 NAME_UNKNOWN", func(t *testing.T) {
		c.with(t).do("GET", "/v2/discovery/none/tags/list", nil).expectError(t, 404, "NAME_UNKNOWN")
	})
}

// TestCatalog covers GET /v2/_catalog, paginated like the tags list (a
// distribution API the spec leaves out, which registry clients use).
func TestCatalog(t *testing.T) {
	_, c := startRegistry(t)
	repos := []string{"cat/b", "cat/a", "cat/c/deep", "other", "cat/a-b"}
	for _, r := range repos {
		c.pushImage(r, "latest", mtOCIManifest)
	}
	sorted := append([]string(nil), repos...)
	sort.Strings(sorted)

	catalog := func(t *testing.T, query string) ([]string, string) {
		r := c.with(t).do("GET", "/v2/_catalog"+query, nil).expect(t, 200)
		var body struct {
			Repositories []string `json:"repositories"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("%s: %v: %s", r.req, err, r.body)
		}
		return body.Repositories, nextLink(t, r)
	}
	t.Run("all", func(t *testing.T) {
		if got, _ := catalog(t, ""); !reflect.DeepEqual(got, sorted) {
			t.Fatalf("repositories %v, want %v", got, sorted)
		}
	})
	t.Run("following Link pages through all", func(t *testing.T) {
		var all []string
		next := "/v2/_catalog?n=2"
		for i := 0; next != "" && i < 10; i++ {
			u, err := url.Parse(next)
			if err != nil {
				t.Fatal(err)
			}
			page, link := catalog(t, "?"+u.RawQuery)
			if len(page) > 2 {
				t.Fatalf("page of %d with n=2", len(page))
			}
			all, next = append(all, page...), link
		}
		if !reflect.DeepEqual(all, sorted) {
			t.Fatalf("paged repositories %v, want %v", all, sorted)
		}
	})
	t.Run("n=0 is empty without Link", func(t *testing.T) {
		if got, link := catalog(t, "?n=0"); len(got) != 0 || link != "" {
			t.Fatalf("repositories %v link %q, want none", got, link)
		}
	})
	t.Run("n and last", func(t *testing.T) {
		got, link := catalog(t, "?n=2&last="+url.QueryEscape(sorted[0]))
		if !reflect.DeepEqual(got, sorted[1:3]) || link == "" {
			t.Fatalf("repositories %v link %q, want %v and a Link", got, link, sorted[1:3])
		}
	})
}

// TestListingReferrers follows spec "Content Discovery / Listing
// Referrers" (end-12a, end-12b) and "Pushing Manifests with Subject".
func TestListingReferrers(t *testing.T) {
	_, c := startRegistry(t)
	c.distributionGap(t, "no referrers API, no OCI-Subject")
	const repo = "discovery/referrers"
	subject := c.pushImage(repo, "subject", mtOCIManifest)
	const sbom, sig = "application/vnd.example.sbom.v1", "application/vnd.example.signature.v1"
	a := c.pushArtifact(repo, sbom, subject.desc(), "a")
	b := c.pushArtifact(repo, sig, subject.desc(), "b")
	// No artifactType: the config media type stands in for it.
	cfg := c.pushArtifact(repo, "", subject.desc(), "c")
	// An index referring to the subject, without an artifactType.
	idxM := manifest{SchemaVersion: 2, MediaType: mtOCIIndex, Manifests: []descriptor{a.desc()},
		Subject: ptr(subject.desc()), Annotations: map[string]string{"org.example.name": "idx"}}
	idxBody := mustJSON(t, idxM)
	r := c.pushManifest(repo, sha256Digest(idxBody), mtOCIIndex, idxBody)
	r.expectHeader(t, "OCI-Subject", subject.digest)
	idx := pushed{mediaType: mtOCIIndex, body: idxBody, digest: sha256Digest(idxBody)}

	want := map[string]descriptor{
		a.digest:   {MediaType: mtOCIManifest, Digest: a.digest, Size: len(a.body), ArtifactType: sbom, Annotations: map[string]string{"org.example.name": "a"}},
		b.digest:   {MediaType: mtOCIManifest, Digest: b.digest, Size: len(b.body), ArtifactType: sig, Annotations: map[string]string{"org.example.name": "b"}},
		cfg.digest: {MediaType: mtOCIManifest, Digest: cfg.digest, Size: len(cfg.body), ArtifactType: mtEmptyJSON, Annotations: map[string]string{"org.example.name": "c"}},
		idx.digest: {MediaType: mtOCIIndex, Digest: idx.digest, Size: len(idx.body), Annotations: map[string]string{"org.example.name": "idx"}},
	}
	referrers := func(t *testing.T, digest, query string) (*response, map[string]descriptor) {
		r := c.with(t).do("GET", "/v2/"+repo+"/referrers/"+digest+query, nil).expect(t, 200).
			expectHeader(t, "Content-Type", mtOCIIndex)
		var m manifest
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatalf("%s: %v", r.req, err)
		}
		if m.SchemaVersion != 2 || m.MediaType != mtOCIIndex {
			t.Errorf("referrers index schemaVersion %d mediaType %q", m.SchemaVersion, m.MediaType)
		}
		got := map[string]descriptor{}
		for _, d := range m.Manifests {
			got[d.Digest] = d
		}
		if len(got) != len(m.Manifests) {
			t.Errorf("duplicate descriptors in %s", r.body)
		}
		return r, got
	}

	t.Run("push with subject answers OCI-Subject", func(t *testing.T) {
		c := c.with(t)
		m, blobs := imageManifest(t, mtOCIManifest, 1)
		m.Subject = ptr(subject.desc())
		for _, bl := range blobs {
			c.pushBlob(repo, bl.data, bl.digest)
		}
		body := mustJSON(t, m)
		c.pushManifest(repo, sha256Digest(body), mtOCIManifest, body).expectHeader(t, "OCI-Subject", subject.digest)
		c.do("DELETE", "/v2/"+repo+"/manifests/"+sha256Digest(body), nil).expect(t, 202)
	})
	t.Run("all referrers", func(t *testing.T) {
		r, got := referrers(t, subject.digest, "")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("referrers\n got %+v\nwant %+v", got, want)
		}
		if f := r.header.Get("OCI-Filters-Applied"); f != "" {
			t.Errorf("OCI-Filters-Applied %q without a filter", f)
		}
	})
	t.Run("artifactType filter", func(t *testing.T) {
		r, got := referrers(t, subject.digest, "?artifactType="+url.QueryEscape(sbom))
		r.expectHeader(t, "OCI-Filters-Applied", "artifactType")
		if !reflect.DeepEqual(got, map[string]descriptor{a.digest: want[a.digest]}) {
			t.Fatalf("filtered referrers %+v", got)
		}
	})
	t.Run("filter matching nothing is an empty list", func(t *testing.T) {
		r, got := referrers(t, subject.digest, "?artifactType=application/vnd.example.none")
		r.expectHeader(t, "OCI-Filters-Applied", "artifactType")
		if len(got) != 0 {
			t.Fatalf("referrers %+v, want none", got)
		}
	})
	t.Run("subject pushed after its referrer", func(t *testing.T) {
		// A registry must accept a subject that does not exist yet.
		c := c.with(t)
		m, blobs := imageManifest(t, mtOCIManifest, 1)
		later := mustJSON(t, m)
		ref := c.pushArtifact(repo, sbom, descriptor{MediaType: mtOCIManifest, Digest: sha256Digest(later), Size: len(later)}, "early")
		for _, bl := range blobs {
			c.pushBlob(repo, bl.data, bl.digest)
		}
		c.pushManifest(repo, "later", mtOCIManifest, later)
		_, got := referrers(t, sha256Digest(later), "")
		if _, ok := got[ref.digest]; !ok || len(got) != 1 {
			t.Fatalf("referrers %+v, want only %s", got, ref.digest)
		}
	})
	t.Run("no referrers is an empty list, not 404", func(t *testing.T) {
		_, got := referrers(t, randomBlob(t, 10).digest, "")
		if len(got) != 0 {
			t.Fatalf("referrers %+v, want none", got)
		}
	})
	t.Run("deleted referrer disappears", func(t *testing.T) {
		c.with(t).do("DELETE", "/v2/"+repo+"/manifests/"+b.digest, nil).expect(t, 202)
		_, got := referrers(t, subject.digest, "")
		if _, ok := got[b.digest]; ok || len(got) != len(want)-1 {
			t.Fatalf("referrers after delete %+v", got)
		}
	})
	t.Run("invalid digest is 400", func(t *testing.T) {
		c.with(t).do("GET", "/v2/"+repo+"/referrers/sha256:nothex", nil).expect(t, 400)
	})
}

func ptr[T any](v T) *T { return &v }
