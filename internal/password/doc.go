// Package password hashes and verifies passwords with argon2id, in the
// PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
//
// Each hash needs m KiB, so a Hasher bounds how many run at once (a login
// flood queues instead of exhausting memory) and gives each of those slots
// memory it reuses (argon2id.Memory) instead of allocating m KiB per hash;
// parameters read back from stored hashes are bounded too (a tampered row
// cannot make a login allocate gigabytes). It knows nothing of users or
// storage.
package password
