package daemon

import (
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/volume"
)

// Short names for the API types of /system/df.
type (
	imageSummary     = image.Summary
	containerSummary = container.Summary
	volumeSummary    = volume.Volume
	buildCacheRecord = build.CacheRecord
)
