/* snapshot.h: the engine snapshot format, shared by snapshot.c (writing) and restore.c.
 *
 * Layout, all integers little endian:
 *   "DMLOGSNP" | u32 version (1)
 *   u32 node count | per node, in interning order: u8 length, name bytes
 *   u32 log count | per log, in uuid (strcmp) order:
 *     u8 uuid length, uuid | u8 type, u8 mode, u8 block_on_error | u8 dev length, dev
 *     u64 region_size, u64 region_count, u64 sync_search
 *     u32 priority count, u64 regions (oldest first)
 *     u32 instance count | per instance, by (node name, luid):
 *       u32 node index, u64 luid, u8 state, u8 sticky, u8 assigned, u64 assigned region (0 if
 *       none), u64 hint, u64 region_count, u32 args length, args bytes
 *     u64 mark count | per mark, by region: u64 region, u64 node mask
 *     clean bitmap, sync bitmap: runs of u8 kind (0 zero words, 1 all-ones words, 2 literal),
 *       u64 word count, then the words themselves for a literal run
 *   SHA-256 of everything before it (32 bytes)
 * Derived values (sync_count, the low-unsynced bound, indexes) are recomputed on restore.
 */
#ifndef DMLOG_SNAPSHOT_H
#define DMLOG_SNAPSHOT_H

#define SNAPSHOT_MAGIC "DMLOGSNP"
#define SNAPSHOT_MAGIC_LEN 8
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_DIGEST_LEN 32

#endif /* DMLOG_SNAPSHOT_H */
