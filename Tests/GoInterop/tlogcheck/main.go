// Command tlogcheck is Amanat's interop witness for the transparency log: it signs and opens C2SP signed notes
// with golang.org/x/mod/sumdb/note and builds and checks RFC 6962 proofs with golang.org/x/mod/sumdb/tlog, so
// the Swift tests can check AmanatLog against an implementation written elsewhere, in both directions.
//
// Build (Debian's golang-go and golang-golang-x-mod-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o .build-go/tlogcheck ./Tests/GoInterop/tlogcheck
//
// Subcommands (exit 0 on success, 1 when a check fails, 2 on a usage or input error):
//
//	keygen NAME                     print a signer key and a verifier key (note.GenerateKey), one per line
//	sign-note SKEY FILE             sign the note text in FILE, print the signed note
//	verify-note VKEY FILE           open the signed note in FILE with note.Open, print its text
//	verify-cosignature NAME KEY FILE
//	                                open FILE with a cosignature/v1 (type 0x04) verifier for the base64
//	                                Ed25519 key KEY; print the timestamp
//	make-proofs N                   build a tree of N leaves "leaf 0" … "leaf N-1" with tlog; print every root,
//	                                inclusion proof and consistency proof, hashes in hex
//	check-proofs FILE               check each line of FILE with tlog.CheckRecord / tlog.CheckTree:
//	                                inclusion ok|bad SIZE INDEX LEAF ROOT [HASH...]
//	                                consistency ok|bad OLD NEW OLDROOT NEWROOT [HASH...]
package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "keygen":
		need(args, 1)
		skey, vkey, err := note.GenerateKey(rand.Reader, args[0])
		check(err)
		fmt.Println(skey)
		fmt.Println(vkey)
	case "sign-note":
		need(args, 2)
		signer, err := note.NewSigner(args[0])
		check(err)
		signed, err := note.Sign(&note.Note{Text: string(readFile(args[1]))}, signer)
		check(err)
		os.Stdout.Write(signed)
	case "verify-note":
		need(args, 2)
		verifier, err := note.NewVerifier(args[0])
		check(err)
		n, err := note.Open(readFile(args[1]), note.VerifierList(verifier))
		if err != nil {
			fail("note.Open: %v", err)
		}
		fmt.Print(n.Text)
	case "verify-cosignature":
		need(args, 3)
		key, err := base64.StdEncoding.DecodeString(args[1])
		if err != nil || len(key) != ed25519.PublicKeySize {
			usageError("KEY must be base64 of a 32-byte Ed25519 public key")
		}
		v := &cosignatureVerifier{name: args[0], key: key}
		v.hash = keyHash(args[0], append([]byte{0x04}, key...))
		n, err := note.Open(readFile(args[2]), note.VerifierList(v))
		if err != nil {
			fail("note.Open: %v", err)
		}
		if len(n.Sigs) == 0 {
			fail("no cosignature")
		}
		fmt.Println(v.lastTime)
	case "make-proofs":
		need(args, 1)
		size, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || size < 1 || size > 4096 {
			usageError("N must be between 1 and 4096")
		}
		makeProofs(size)
	case "check-proofs":
		need(args, 1)
		checkProofs(args[0])
	default:
		usage()
	}
}

// cosignatureVerifier checks C2SP tlog-cosignature v1 signatures (type 0x04), which note 0.x does not know:
// an 8-byte big-endian timestamp and an Ed25519 signature over "cosignature/v1\ntime T\n" and the note text.
type cosignatureVerifier struct {
	name     string
	hash     uint32
	key      ed25519.PublicKey
	lastTime uint64
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }
func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	if t > 1<<63-1 {
		return false
	}
	signed := []byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t))
	signed = append(signed, msg...)
	if !ed25519.Verify(v.key, signed, sig[8:]) {
		return false
	}
	v.lastTime = t
	return true
}

// keyHash is the signed-note key ID: the first four bytes of SHA-256(name || "\n" || type || key).
func keyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func makeProofs(size int64) {
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, index := range indexes {
			if index < 0 || index >= int64(len(stored)) {
				return nil, fmt.Errorf("no stored hash %d", index)
			}
			out[i] = stored[index]
		}
		return out, nil
	})
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for n := int64(0); n < size; n++ {
		hashes, err := tlog.StoredHashes(n, []byte(fmt.Sprintf("leaf %d", n)), reader)
		check(err)
		stored = append(stored, hashes...)
		root, err := tlog.TreeHash(n+1, reader)
		check(err)
		fmt.Fprintf(w, "root %d %x\n", n+1, root[:])
	}
	for t := int64(1); t <= size; t++ {
		for n := int64(0); n < t; n++ {
			proof, err := tlog.ProveRecord(t, n, reader)
			check(err)
			fmt.Fprintf(w, "inclusion %d %d%s\n", t, n, hexList(proof))
		}
	}
	for t := int64(1); t <= size; t++ {
		for n := int64(1); n <= t; n++ {
			proof, err := tlog.ProveTree(t, n, reader)
			check(err)
			fmt.Fprintf(w, "consistency %d %d%s\n", n, t, hexList(proof))
		}
	}
}

func hexList(hashes []tlog.Hash) string {
	var b strings.Builder
	for _, h := range hashes {
		b.WriteString(" ")
		b.WriteString(hex.EncodeToString(h[:]))
	}
	return b.String()
}

func checkProofs(path string) {
	lines := strings.Split(strings.TrimSuffix(string(readFile(path)), "\n"), "\n")
	checked := 0
	for number, line := range lines {
		fields := strings.Fields(line)
		if len(fields) < 6 || (fields[1] != "ok" && fields[1] != "bad") {
			usageError(fmt.Sprintf("line %d: malformed", number+1))
		}
		a := parseInt(fields[2])
		b := parseInt(fields[3])
		h1 := parseHash(fields[4])
		h2 := parseHash(fields[5])
		var proof []tlog.Hash
		for _, f := range fields[6:] {
			proof = append(proof, parseHash(f))
		}
		var err error
		switch fields[0] {
		case "inclusion":
			err = tlog.CheckRecord(tlog.RecordProof(proof), a, h2, b, h1)
		case "consistency":
			err = tlog.CheckTree(tlog.TreeProof(proof), b, h2, a, h1)
		default:
			usageError(fmt.Sprintf("line %d: unknown kind %q", number+1, fields[0]))
		}
		if (err == nil) != (fields[1] == "ok") {
			fail("line %d (%s, expected %s): tlog says %v", number+1, fields[0], fields[1], err)
		}
		checked++
	}
	fmt.Printf("checked %d\n", checked)
}

func parseInt(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		usageError("bad number " + s)
	}
	return v
}

func parseHash(s string) tlog.Hash {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		usageError("bad hash " + s)
	}
	copy(h[:], b)
	return h
}

func readFile(path string) []byte {
	data, err := os.ReadFile(path)
	check(err)
	return data
}

func need(args []string, n int) {
	if len(args) != n {
		usage()
	}
}

func check(err error) {
	if err != nil {
		usageError(err.Error())
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", args...)
	os.Exit(1)
}

func usageError(message string) {
	fmt.Fprintln(os.Stderr, "tlogcheck:", message)
	os.Exit(2)
}

func usage() {
	usageError("usage: tlogcheck keygen NAME | sign-note SKEY FILE | verify-note VKEY FILE | " +
		"verify-cosignature NAME KEY FILE | make-proofs N | check-proofs FILE")
}
