// Copyright 2017 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package argon2id

import (
	"encoding/binary"
	"runtime"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// Version is the Argon2 version implemented (0x13), as in x/crypto.
const Version = 0x13

const (
	argon2id    = 2 // the type's number in the initial hash
	blockLength = 128
	syncPoints  = 4
)

type block [blockLength]uint64

// Memory is the memory one hash works in. It grows to the largest hash it
// has served and is reused as is: a hash overwrites every block before it
// reads it, so nothing needs clearing between hashes. A Memory serves one
// hash at a time.
//
// On Unix the memory is mapped outside the Go heap (see mapBlocks): Free
// gives it back at once, and a Memory dropped without Free gives it back
// when the collector finds the Memory unreachable.
type Memory struct {
	blocks  []block
	mapped  bool            // blocks came from mapBlocks (else from the Go heap)
	cleanup runtime.Cleanup // unmaps blocks if m is dropped while mapped
}

// Size is how many bytes m holds now.
func (m *Memory) Size() int { return len(m.blocks) * blockLength * 8 }

// Free gives m's memory back to the operating system (the next hash maps
// it again). No hash may be running in m.
func (m *Memory) Free() {
	if m.mapped {
		m.cleanup.Stop()
		unmapBlocks(m.blocks)
	}
	m.blocks, m.mapped = nil, false
}

// grow makes m hold at least n blocks, on the Go heap where no mapping
// can be made (not Unix, or the operating system refuses one).
func (m *Memory) grow(n uint32) {
	if uint32(len(m.blocks)) >= n {
		return
	}
	m.Free()
	B, err := mapBlocks(n)
	if err != nil {
		m.blocks = make([]block, n)
		return
	}
	m.blocks, m.mapped = B, true
	m.cleanup = runtime.AddCleanup(m, unmapBlocks, B)
}

// IDKey is x/crypto's argon2.IDKey computed in m: the same key for the
// same arguments, without allocating memory KiB when m has them.
func (m *Memory) IDKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	return m.deriveKey(password, salt, nil, nil, time, memory, threads, keyLen)
}

// deriveKey is x/crypto's deriveKey for Argon2id in m; secret and data
// are the optional inputs RFC 9106's test vectors use.
func (m *Memory) deriveKey(password, salt, secret, data []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	if time < 1 {
		panic("argon2id: number of rounds too small")
	}
	if threads < 1 {
		panic("argon2id: parallelism degree too low")
	}
	h0 := initHash(password, salt, secret, data, time, memory, uint32(threads), keyLen)

	memory = memory / (syncPoints * uint32(threads)) * (syncPoints * uint32(threads))
	if memory < 2*syncPoints*uint32(threads) {
		memory = 2 * syncPoints * uint32(threads)
	}
	m.grow(memory)
	B := m.blocks[:memory]
	initBlocks(B, &h0, memory, uint32(threads))
	processBlocks(B, time, memory, uint32(threads))
	key := extractKey(B, memory, uint32(threads), keyLen)
	// B lies outside the Go heap and does not keep m alive: without this,
	// a caller that drops m during the hash (new(Memory).IDKey(…)) could
	// see m collected and its cleanup unmap B under processBlocks.
	runtime.KeepAlive(m)
	return key
}

func initHash(password, salt, key, data []byte, time, memory, threads, keyLen uint32) [blake2b.Size + 8]byte {
	var (
		h0     [blake2b.Size + 8]byte
		params [24]byte
		tmp    [4]byte
	)

	b2, _ := blake2b.New512(nil)
	binary.LittleEndian.PutUint32(params[0:4], threads)
	binary.LittleEndian.PutUint32(params[4:8], keyLen)
	binary.LittleEndian.PutUint32(params[8:12], memory)
	binary.LittleEndian.PutUint32(params[12:16], time)
	binary.LittleEndian.PutUint32(params[16:20], uint32(Version))
	binary.LittleEndian.PutUint32(params[20:24], uint32(argon2id))
	b2.Write(params[:])
	for _, in := range [][]byte{password, salt, key, data} {
		binary.LittleEndian.PutUint32(tmp[:], uint32(len(in)))
		b2.Write(tmp[:])
		b2.Write(in)
	}
	b2.Sum(h0[:0])
	return h0
}

// initBlocks writes the first two blocks of each lane (in full: B may
// hold an earlier hash's blocks).
func initBlocks(B []block, h0 *[blake2b.Size + 8]byte, memory, threads uint32) {
	var block0 [1024]byte
	for lane := uint32(0); lane < threads; lane++ {
		j := lane * (memory / threads)
		binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], lane)

		binary.LittleEndian.PutUint32(h0[blake2b.Size:], 0)
		blake2bHash(block0[:], h0[:])
		for i := range B[j+0] {
			B[j+0][i] = binary.LittleEndian.Uint64(block0[i*8:])
		}

		binary.LittleEndian.PutUint32(h0[blake2b.Size:], 1)
		blake2bHash(block0[:], h0[:])
		for i := range B[j+1] {
			B[j+1][i] = binary.LittleEndian.Uint64(block0[i*8:])
		}
	}
}

// processBlocks is x/crypto's for Argon2id with one change: the first
// pass writes each block (processBlock) instead of XORing into it
// (processBlockXOR). x/crypto XORs into freshly zeroed memory, which is
// the same; here the memory holds an earlier hash, so the first pass must
// overwrite it. Later passes XOR into this hash's own blocks, as in
// RFC 9106 (version 0x13).
func processBlocks(B []block, time, memory, threads uint32) {
	lanes := memory / threads
	segments := lanes / syncPoints

	processSegment := func(n, slice, lane uint32, wg *sync.WaitGroup) {
		var addresses, in, zero block
		if n == 0 && slice < syncPoints/2 {
			in[0] = uint64(n)
			in[1] = uint64(lane)
			in[2] = uint64(slice)
			in[3] = uint64(memory)
			in[4] = uint64(time)
			in[5] = uint64(argon2id)
		}

		index := uint32(0)
		if n == 0 && slice == 0 {
			index = 2 // we have already generated the first two blocks
			in[6]++
			processBlock(&addresses, &in, &zero)
			processBlock(&addresses, &addresses, &zero)
		}

		offset := lane*lanes + slice*segments + index
		var random uint64
		for index < segments {
			prev := offset - 1
			if index == 0 && slice == 0 {
				prev += lanes // last block in lane
			}
			if n == 0 && slice < syncPoints/2 {
				if index%blockLength == 0 {
					in[6]++
					processBlock(&addresses, &in, &zero)
					processBlock(&addresses, &addresses, &zero)
				}
				random = addresses[index%blockLength]
			} else {
				random = B[prev][0]
			}
			newOffset := indexAlpha(random, lanes, segments, threads, n, slice, lane, index)
			if n == 0 {
				processBlock(&B[offset], &B[prev], &B[newOffset])
			} else {
				processBlockXOR(&B[offset], &B[prev], &B[newOffset])
			}
			index, offset = index+1, offset+1
		}
		wg.Done()
	}

	for n := uint32(0); n < time; n++ {
		for slice := uint32(0); slice < syncPoints; slice++ {
			var wg sync.WaitGroup
			for lane := uint32(0); lane < threads; lane++ {
				wg.Add(1)
				go processSegment(n, slice, lane, &wg)
			}
			wg.Wait()
		}
	}
}

func extractKey(B []block, memory, threads, keyLen uint32) []byte {
	lanes := memory / threads
	for lane := uint32(0); lane < threads-1; lane++ {
		for i, v := range B[(lane*lanes)+lanes-1] {
			B[memory-1][i] ^= v
		}
	}

	var block [1024]byte
	for i, v := range B[memory-1] {
		binary.LittleEndian.PutUint64(block[i*8:], v)
	}
	key := make([]byte, keyLen)
	blake2bHash(key, block[:])
	return key
}

func indexAlpha(rand uint64, lanes, segments, threads, n, slice, lane, index uint32) uint32 {
	refLane := uint32(rand>>32) % threads
	if n == 0 && slice == 0 {
		refLane = lane
	}
	m, s := 3*segments, ((slice+1)%syncPoints)*segments
	if lane == refLane {
		m += index
	}
	if n == 0 {
		m, s = slice*segments, 0
		if slice == 0 || lane == refLane {
			m += index
		}
	}
	if index == 0 || lane == refLane {
		m--
	}
	return phi(rand, uint64(m), uint64(s), refLane, lanes)
}

func phi(rand, m, s uint64, lane, lanes uint32) uint32 {
	p := rand & 0xFFFFFFFF
	p = (p * p) >> 32
	p = (p * m) >> 32
	return lane*lanes + uint32((s+m-(p+1))%uint64(lanes))
}
