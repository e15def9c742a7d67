package container

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	containertypes "github.com/docker/docker/api/types/container"

	"github.com/wharf-project/wharf/engine/container"
	"github.com/wharf-project/wharf/engine/errdefs"
	"github.com/wharf-project/wharf/engine/server/httputils"
)

// ArchiveBackend is what `docker cp` needs (HEAD, GET and PUT of
// /containers/{name}/archive).
type ArchiveBackend interface {
	ArchiveStat(ctx context.Context, name, path string) (*containertypes.PathStat, error)
	ArchiveGet(ctx context.Context, name, path string, open func(*containertypes.PathStat) (io.Writer, error)) error
	ArchivePut(ctx context.Context, name, path string, r io.Reader, o container.ExtractOptions) error
}

// pathStatHeader carries the stat of the path, base64-encoded JSON.
const pathStatHeader = "X-Docker-Container-Path-Stat"

func setPathStat(w http.ResponseWriter, st *containertypes.PathStat) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(b))
	return nil
}

func archivePath(r *http.Request) (string, error) {
	if err := httputils.ParseForm(r); err != nil {
		return "", err
	}
	p := r.Form.Get("path")
	if p == "" {
		return "", errdefs.InvalidParameter(errors.New("path is required"))
	}
	return p, nil
}

func (cr *containerRouter) headContainersArchive(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	st, err := cr.backend.ArchiveStat(ctx, vars["name"], p)
	if err != nil {
		return err
	}
	if err := setPathStat(w, st); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (cr *containerRouter) getContainersArchive(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	started := false
	err = cr.backend.ArchiveGet(ctx, vars["name"], p, func(st *containertypes.PathStat) (io.Writer, error) {
		if err := setPathStat(w, st); err != nil {
			return nil, err
		}
		w.Header().Set("Content-Type", "application/x-tar")
		w.WriteHeader(http.StatusOK)
		started = true
		return w, nil
	})
	if err != nil && started {
		return nil // the tar had begun: the client sees it cut short
	}
	return err
}

func (cr *containerRouter) putContainersArchive(ctx context.Context, w http.ResponseWriter, r *http.Request, vars map[string]string) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	o := container.ExtractOptions{
		NoOverwriteDirNonDir: httputils.BoolValue(r, "noOverwriteDirNonDir"),
		CopyUIDGID:           httputils.BoolValue(r, "copyUIDGID"),
	}
	if err := cr.backend.ArchivePut(ctx, vars["name"], p, r.Body, o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
