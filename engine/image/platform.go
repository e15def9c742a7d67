package image

import "runtime"

func hostArch() string { return runtime.GOARCH }
