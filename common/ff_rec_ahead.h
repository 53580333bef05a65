/* ff_rec_ahead: ff_rec_each with the reading and parsing on a thread of its
 * own, a few thousand records ahead of the caller's work, so that a batch
 * command keeps two cores busy. The callbacks run on the calling thread, in
 * order, as with ff_rec_each; memory stays a few batches of records. */
#ifndef FF_REC_AHEAD_H
#define FF_REC_AHEAD_H

#include "ff_rec.h"

/* As ff_rec_each (same callbacks, same return values, cells valid during
 * the call only). A non-zero return of a callback stops the reading thread
 * at its next record. Without a thread, reads on the calling thread. */
int ff_rec_each_ahead(struct ff_rec_reader *r, ff_rec_schema_fn on_schema, ff_rec_row_fn on_row,
		      void *ctx);

#endif
