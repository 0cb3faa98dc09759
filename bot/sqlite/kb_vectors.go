package sqlite

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/xiaoer-cs/xiaoer/knowledge"
)

// Vectors returns the cached embedding vectors of every entry for model.
func (s *Store) Vectors(ctx context.Context, model string) ([]knowledge.EntryVectors, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT entry_id, content_hash, dim, vectors FROM kb_vectors WHERE model = ?`, model)
	if err != nil {
		return nil, fmt.Errorf("sqlite: vectors: %w", err)
	}
	defer rows.Close()
	var out []knowledge.EntryVectors
	for rows.Next() {
		var (
			v    knowledge.EntryVectors
			dim  int
			blob []byte
		)
		if err := rows.Scan(&v.EntryID, &v.Hash, &dim, &blob); err != nil {
			return nil, fmt.Errorf("sqlite: vectors: %w", err)
		}
		if dim <= 0 || len(blob)%(4*dim) != 0 {
			continue // a damaged row: the entry is embedded again
		}
		for off := 0; off < len(blob); off += 4 * dim {
			vec := make([]float32, dim)
			for i := range vec {
				vec[i] = math.Float32frombits(binary.LittleEndian.Uint32(blob[off+4*i:]))
			}
			v.Vectors = append(v.Vectors, vec)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: vectors: %w", err)
	}
	return out, nil
}

// SaveVectors caches entries' vectors for model, replacing older ones.
func (s *Store) SaveVectors(ctx context.Context, model string, vs []knowledge.EntryVectors) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: save vectors: %w", err)
	}
	defer tx.Rollback()
	now := s.stamp()
	for _, v := range vs {
		if len(v.Vectors) == 0 {
			continue
		}
		dim := len(v.Vectors[0])
		blob := make([]byte, 0, 4*dim*len(v.Vectors))
		for _, vec := range v.Vectors {
			if len(vec) != dim {
				return fmt.Errorf("sqlite: save vectors of %s: vectors of differing length", v.EntryID)
			}
			for _, x := range vec {
				blob = binary.LittleEndian.AppendUint32(blob, math.Float32bits(x))
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO kb_vectors (entry_id, model, content_hash, dim, vectors, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entry_id, model) DO UPDATE SET content_hash = excluded.content_hash,
			dim = excluded.dim, vectors = excluded.vectors, updated_at = excluded.updated_at`,
			v.EntryID, model, v.Hash, dim, blob, now); err != nil {
			return fmt.Errorf("sqlite: save vectors of %s: %w", v.EntryID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: save vectors: commit: %w", err)
	}
	return nil
}
