// Package configuration reads the registry's config.yml: distribution's
// (registry:2) format, version 0.1, so a registry:2 configuration file and
// its REGISTRY_* environment run wharf unchanged — or stop it at start with
// an error that names the key, never a silent difference.
//
// # Parsing
//
//	cfg, err := configuration.Parse(f)   // YAML, then REGISTRY_* overrides, then checks and defaults
//	cfg := configuration.Default()       // the registry:2 image's config.yml (DefaultYAML)
//
// Parsing is strict. An unknown or mistyped key anywhere is an error naming
// its path ("storage.filesystem.rootdirectry: unknown key",
// "http.addr: expected string"); errors are *Error values and match
// ErrInvalid. Values are read as distribution reads them: strings accept
// any scalar ("addr: 5000"), booleans also accept YAML 1.1's yes/no/on/off,
// and durations are Go durations ("10s", "1h30m") or plain integers, which
// are nanoseconds. A key with no value is its zero value.
//
// # Environment overrides
//
// REGISTRY_<KEY>_<KEY>... sets the key at that path: REGISTRY_HTTP_ADDR=:6000,
// REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/srv, REGISTRY_LOG_LEVEL=debug.
// The value is YAML (REGISTRY_STORAGE_DELETE_ENABLED=true is a boolean,
// REGISTRY_HTTP_HEADERS_X-FRAME-OPTIONS=[DENY] a list); a number indexes a
// list (REGISTRY_HTTP_TLS_CLIENTCAS_0=/ca.pem). Variables apply in name
// order, so REGISTRY_STORAGE=inmemory replaces the whole storage section
// (switching the driver) before REGISTRY_STORAGE_DELETE_ENABLED=true sets a
// key inside it. A variable that names a section but no key in it is an
// error naming the variable; one whose first part names no section at all
// (REGISTRY_PORT, REGISTRY_SERVICE_HOST: what Kubernetes and Docker links
// define for a service called "registry") is ignored with a warning, as
// distribution ignores it.
//
// # Keys, with their defaults
//
//	version: 0.1                       required; the only version there is
//	log:
//	  level: info                      error | warn | info | debug (any case)
//	  formatter: text                  text | json | logstash
//	  fields: {}                       static fields added to every log line
//	  accesslog:
//	    disabled: false
//	  hooks, reportcaller              accepted, ignored
//	loglevel:                          deprecated spelling of log.level
//	storage:                           required: exactly one driver section
//	  filesystem:                      (or the short form "storage: filesystem")
//	    rootdirectory: /var/lib/registry
//	    maxthreads:                    positive integer; unset leaves the driver's default
//	  inmemory:                        takes no parameters; data lives until exit
//	  delete:
//	    enabled: false                 allow DELETE of manifests and blobs
//	  redirect:
//	    disable: false                 (filesystem and inmemory never redirect)
//	  cache:
//	    blobdescriptor:                inmemory | redis (layerinfo is its old name);
//	                                   redis needs a redis section; wharf caches in memory
//	  maintenance:
//	    uploadpurging:
//	      enabled: true                remove abandoned uploads
//	      age: 168h                    uploads older than this
//	      interval: 24h                how often
//	      dryrun: false                only log what would go
//	    readonly:
//	      enabled: false               refuse writes (for garbage collection)
//	  tag:                             accepted, ignored
//	  s3, azure, gcs, swift, oss       refused: not supported by wharf
//	http:
//	  addr: :5000                      host:port, or a socket path when net is unix
//	  net: tcp                         tcp | tcp4 | tcp6 | unix
//	  prefix:                          path before /v2/; normalized to /x/ (unset: none)
//	  host:                            absolute http(s) URL used in generated Location headers
//	  secret:                          signs upload state; set it alike on replicas
//	  relativeurls: false              relative Location headers
//	  draintimeout: 30s                how long a stop waits for requests (0: don't wait)
//	  tls:                             certificate and key both, or neither
//	    certificate:
//	    key:
//	    clientcas: []                  CA files; client certificates then required
//	    minimumtls: tls1.2             tls1.0 | tls1.1 | tls1.2 | tls1.3 (set when TLS is on)
//	    ciphersuites: []               Go's names; empty for Go's defaults
//	    letsencrypt                    refused: not supported by wharf
//	  debug:
//	    addr:                          debug listener (health, pprof); unset: none
//	    prometheus                     accepted, ignored
//	  headers: {}                      Name: [values] added to every response
//	  http2:
//	    disabled: false                accepted, ignored
//	health:
//	  storagedriver:
//	    enabled: false                 check the storage driver periodically
//	    interval: 10s                  (defaults apply when enabled)
//	    threshold: 3                   failures in a row before unhealthy
//	  file, http, tcp                  refused: not supported by wharf
//	auth:                              optional, one provider
//	  htpasswd:                        (or the short form "auth: htpasswd")
//	    realm:                         required
//	    path:                          required: the bcrypt htpasswd file
//	  none:                            no authentication (as leaving auth out)
//	  token, silly                     refused: not supported by wharf
//	proxy                              refused: pull-through cache not supported
//	middleware                         refused: not supported
//	notifications, reporting, validation, compatibility,
//	redis, catalog, policy             accepted, ignored (listed in Warnings)
//
// Refused sections are refused only when they say something: "proxy: {}"
// parses. Accepted-but-ignored input is listed in Configuration.Warnings for
// the caller to log at start.
package configuration
