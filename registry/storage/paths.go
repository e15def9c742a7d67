package storage

import (
	"path"

	"github.com/opencontainers/go-digest"
)

// The layout on the storage driver is distribution's (registry:2), so a data
// directory written by one is served by the other unchanged:
//
//	/docker/registry/v2/
//	├── blobs/
//	│   └── <algorithm>/<first two hex>/<hex>/data          the content, by digest
//	└── repositories/
//	    └── <name>/
//	        ├── _layers/<algorithm>/<hex>/link              blob is in this repository
//	        ├── _manifests/
//	        │   ├── revisions/<algorithm>/<hex>/link        manifest is in this repository
//	        │   └── tags/<tag>/
//	        │       ├── current/link                        the digest the tag points at
//	        │       └── index/<algorithm>/<hex>/link        every digest it pointed at
//	        └── _uploads/<id>/
//	            ├── data                                    the bytes received so far
//	            └── startedat                               RFC 3339 start time
//
// A link file holds a digest string ("sha256:…"). Manifests are blobs too;
// the revision link is what makes one part of a repository.
const rootPath = "/docker/registry/v2"

func blobsRoot() string { return rootPath + "/blobs" }

func repositoriesRoot() string { return rootPath + "/repositories" }

func blobDir(d digest.Digest) string {
	hex := d.Encoded()
	return path.Join(blobsRoot(), d.Algorithm().String(), hex[:2], hex)
}

func blobDataPath(d digest.Digest) string { return blobDir(d) + "/data" }

func repoPath(name string) string { return path.Join(repositoriesRoot(), name) }

func layerLinkPath(name string, d digest.Digest) string {
	return path.Join(repoPath(name), "_layers", d.Algorithm().String(), d.Encoded(), "link")
}

func manifestsPath(name string) string { return path.Join(repoPath(name), "_manifests") }

func revisionsPath(name string, alg digest.Algorithm) string {
	return path.Join(manifestsPath(name), "revisions", alg.String())
}

func revisionLinkPath(name string, d digest.Digest) string {
	return path.Join(revisionsPath(name, d.Algorithm()), d.Encoded(), "link")
}

func tagsPath(name string) string { return path.Join(manifestsPath(name), "tags") }

func tagPath(name, tag string) string { return path.Join(tagsPath(name), tag) }

func tagCurrentLinkPath(name, tag string) string {
	return path.Join(tagPath(name, tag), "current", "link")
}

func tagIndexLinkPath(name, tag string, d digest.Digest) string {
	return path.Join(tagPath(name, tag), "index", d.Algorithm().String(), d.Encoded(), "link")
}

func uploadsPath(name string) string { return path.Join(repoPath(name), "_uploads") }

func uploadDataPath(name, id string) string { return path.Join(uploadsPath(name), id, "data") }

func uploadStartedAtPath(name, id string) string {
	return path.Join(uploadsPath(name), id, "startedat")
}
