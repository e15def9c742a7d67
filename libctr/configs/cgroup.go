package configs

// Cgroup says where the container's cgroup lives and what it limits.
// Path is relative to the root of each hierarchy (v1) or of the unified
// hierarchy (v2), for example "/wharf/ctr1".
type Cgroup struct {
	Path      string     `json:"path"`
	Resources *Resources `json:"resources"`
}

// Resources are the limits a cgroup enforces. Zero values mean "not set";
// pointers are used where zero is a meaningful limit.
type Resources struct {
	Memory            int64  `json:"memory,omitempty"`             // bytes, -1 unlimited
	MemoryReservation int64  `json:"memory_reservation,omitempty"` // bytes
	MemorySwap        int64  `json:"memory_swap,omitempty"`        // memory+swap bytes, -1 unlimited
	MemorySwappiness  *int64 `json:"memory_swappiness,omitempty"`
	KernelMemory      int64  `json:"kernel_memory,omitempty"`
	DisableOOMKiller  bool   `json:"disable_oom_killer,omitempty"`

	CPUShares  uint64 `json:"cpu_shares,omitempty"` // v1 shares; converted to cpu.weight on v2
	CPUQuota   int64  `json:"cpu_quota,omitempty"`  // microseconds per period, -1 unlimited
	CPUPeriod  uint64 `json:"cpu_period,omitempty"` // microseconds
	CPUWeight  uint64 `json:"cpu_weight,omitempty"` // v2 weight, wins over CPUShares there
	CpusetCpus string `json:"cpuset_cpus,omitempty"`
	CpusetMems string `json:"cpuset_mems,omitempty"`

	PidsLimit int64 `json:"pids_limit,omitempty"` // -1 or 0 unlimited

	BlkioWeight          uint16            `json:"blkio_weight,omitempty"`
	BlkioThrottleRead    []ThrottleDevice  `json:"blkio_throttle_read_bps,omitempty"`
	BlkioThrottleWrite   []ThrottleDevice  `json:"blkio_throttle_write_bps,omitempty"`
	BlkioThrottleReadIO  []ThrottleDevice  `json:"blkio_throttle_read_iops,omitempty"`
	BlkioThrottleWriteIO []ThrottleDevice  `json:"blkio_throttle_write_iops,omitempty"`
	HugetlbLimit         []HugepageLimit   `json:"hugetlb_limit,omitempty"`
	Devices              []DeviceRule      `json:"devices,omitempty"`
	Unified              map[string]string `json:"unified,omitempty"` // raw v2 files
	NetClsClassid        uint32            `json:"net_cls_classid,omitempty"`
	NetPrio              []InterfacePrio   `json:"net_prio,omitempty"`
	Freezer              FreezerState      `json:"freezer,omitempty"`
}

// ThrottleDevice limits I/O on one block device.
type ThrottleDevice struct {
	Major int64  `json:"major"`
	Minor int64  `json:"minor"`
	Rate  uint64 `json:"rate"`
}

// HugepageLimit limits the use of one huge page size, e.g. "2MB".
type HugepageLimit struct {
	Pagesize string `json:"page_size"`
	Limit    uint64 `json:"limit"`
}

// InterfacePrio sets the network priority of one interface.
type InterfacePrio struct {
	Interface string `json:"interface"`
	Priority  uint32 `json:"priority"`
}

// DeviceRule allows or denies access to devices, like a line of the v1
// devices.allow file: Type 'a', 'c' or 'b'; Major/Minor -1 for any;
// Access a subset of "rwm".
type DeviceRule struct {
	Type   rune   `json:"type"`
	Major  int64  `json:"major"`
	Minor  int64  `json:"minor"`
	Access string `json:"access"`
	Allow  bool   `json:"allow"`
}

// FreezerState is the state of a cgroup freezer.
type FreezerState string

// Freezer states.
const (
	Undefined FreezerState = ""
	Frozen    FreezerState = "FROZEN"
	Thawed    FreezerState = "THAWED"
)
