// Command enginebench makes the workload of bench/engine.sh: a multi-layer
// image of a given size, written as a `docker save` tar and pushed to a
// registry, and measures a daemon's resident memory.
//
//	enginebench gen -mb 200 -layers 5 -out image.tar -push http://127.0.0.1:5000 -repo bench/big -tag v1
//	enginebench rss 1234 5678        # sum of VmRSS of the pids, in KiB
//	enginebench freeport             # a free loopback port
//
// The image content is fixed by -seed: half of each layer is random bytes,
// half text, so gzip works about as hard as on real images.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/wharf-project/wharf/internal/testimage"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: enginebench gen|rss|freeport ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "rss":
		err = rss(os.Args[2:])
	case "freeport":
		var l net.Listener
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			fmt.Println(l.Addr().(*net.TCPAddr).Port)
			l.Close()
		}
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "enginebench:", err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	mb := fs.Int("mb", 200, "total uncompressed size in MiB")
	nl := fs.Int("layers", 5, "number of layers")
	seed := fs.Uint64("seed", 1, "content seed")
	out := fs.String("out", "", "write a docker save tar here")
	push := fs.String("push", "", "registry base URL to push to")
	repo := fs.String("repo", "bench/big", "repository")
	tag := fs.String("tag", "v1", "tag")
	fs.Parse(args)
	rng := rand.New(rand.NewPCG(*seed, *seed))
	const fileSize = 4 << 20
	perLayer := (*mb << 20) / *nl / fileSize
	layers := make([][]testimage.File, *nl)
	words := strings.Fields("the quick brown fox jumps over a lazy dog while registries serve layers and engines unpack them")
	for i := range layers {
		layers[i] = append(layers[i], testimage.File{Name: fmt.Sprintf("data%d/", i), Dir: true})
		for j := 0; j < perLayer; j++ {
			b := make([]byte, fileSize)
			if j%2 == 0 {
				for k := 0; k+8 <= len(b); k += 8 {
					v := rng.Uint64()
					for n := 0; n < 8; n++ {
						b[k+n] = byte(v >> (8 * n))
					}
				}
			} else {
				var sb strings.Builder
				for sb.Len() < fileSize {
					sb.WriteString(words[rng.IntN(len(words))])
					sb.WriteByte(' ')
				}
				copy(b, sb.String())
			}
			layers[i] = append(layers[i], testimage.File{Name: fmt.Sprintf("data%d/f%03d", i, j), Body: b})
		}
	}
	img, err := testimage.New([]string{"sh"}, layers...)
	if err != nil {
		return err
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if err := img.WriteDockerSave(w, *repo+":"+*tag); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if *push != "" {
		if err := img.Push(context.Background(), http.DefaultClient, *push, *repo, *tag, "", ""); err != nil {
			return err
		}
	}
	var compressed int
	for _, l := range img.Layers {
		compressed += len(l.Blob)
	}
	fmt.Fprintf(os.Stderr, "image %s: %d layers, %d MiB compressed\n", img.ID()[:19], len(img.Layers), compressed>>20)
	return nil
}

func rss(pids []string) error {
	var total int
	for _, p := range pids {
		f, err := os.Open("/proc/" + p + "/status")
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				n, _ := strconv.Atoi(strings.Fields(v)[0])
				total += n
			}
		}
		f.Close()
	}
	fmt.Println(total)
	return nil
}
