/* hexfile.h: loads the one-line hex test vectors kept under tests/data/.
 *
 * A vector file holds one datagram as hex, either plain or prefixed "RX <len> " / "TX <len> "
 * as the capture tool wrote it; whitespace is ignored. Test helper only.
 */
#ifndef DMLOG_TEST_HEXFILE_H
#define DMLOG_TEST_HEXFILE_H

#include <stddef.h>
#include <stdint.h>

/* Reads DMLOG_TEST_DATA_DIR/relpath into *buf (malloc'ed, exactly *len bytes, owned by the
 * caller; never empty). Returns 0, -errno from the file system, -EINVAL (not hex, odd digit
 * count, empty) or -ENOMEM. */
int hexfile_load(const char *relpath, uint8_t **buf, size_t *len);

/* Decodes hex text (whitespace ignored) into out[0, cap). Returns the byte count, or -EINVAL
 * (bad digit, odd count) or -ENOSPC. */
long hexfile_decode(const char *text, uint8_t *out, size_t cap);

#endif /* DMLOG_TEST_HEXFILE_H */
