/* SPDX-License-Identifier: MIT */
#include "handlers/csv_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/csv_rows.h"
#include "handlers/store_problem.h"
#include "lib/accept.h"
#include "lib/log.h"
#include "server/app.h"
#include "server/problem.h"

bool csv_wanted(const char *accept)
{
	return accept_quality(accept, "text/csv") > accept_quality(accept, "application/json");
}

bool csv_no_page_or_problem(const struct request *req, struct reply *out)
{
	static const char *const page[] = {"limit", "cursor"};
	for (int i = 0; i < 2; i++) {
		if (request_query(req, page[i], NULL)) {
			reply_invalid_parameter(out, page[i],
						"not with Accept: text/csv, which exports every matching row");
			return false;
		}
	}
	return true;
}

/* What an export needs after its handler returned: the request's strings
 * are gone by then, so the filter's are copies. */
struct export {
	struct store *store;
	char request_id[72];
	char *owned[8];      /* the copies, freed with the export */
	int nowned;
	bool oom;
	struct case_filter cases;
	struct settlement_filter settlements;
	int64_t last_seq;    /* the cursor of the next page */
	long rows;
};

static const char *own(struct export *e, const char *s)
{
	if (!s)
		return NULL;
	char *c = strdup(s);
	if (!c || e->nowned == (int)(sizeof e->owned / sizeof *e->owned)) {
		free(c);
		e->oom = true;
		return NULL;
	}
	return e->owned[e->nowned++] = c;
}

static void export_free(void *ctx)
{
	struct export *e = ctx;
	for (int i = 0; i < e->nowned; i++)
		free(e->owned[i]);
	free(e);
}

static struct export *export_new(const struct request *req)
{
	struct export *e = calloc(1, sizeof *e);
	if (e) {
		e->store = req->app->store;
		snprintf(e->request_id, sizeof e->request_id, "%s", req->request_id);
	}
	return e;
}

struct case_page {
	struct buf *b;
	int n;
	int64_t last_seq;
};

static int case_row(void *ctx, const struct case_row *c)
{
	struct case_page *p = ctx;
	csv_case_row(p->b, c);
	p->n++;
	p->last_seq = c->seq;
	return 0;
}

/* One page: 1 more may follow, 0 the last, negative a store error. */
static int case_page(struct export *e, struct buf *b, enum store_result *r)
{
	struct case_page p = {.b = b};
	bool more = false;
	e->cases.before_seq = e->last_seq;
	*r = store_case_list(e->store, &e->cases, case_row, &p, &more);
	if (*r < 0)
		return -1;
	e->rows += p.n;
	e->last_seq = p.last_seq;
	return more && p.n > 0;
}

static int settlement_page(struct export *e, struct buf *b, enum store_result *r)
{
	struct csv_settlements w = {.b = b};
	bool more = false;
	e->settlements.before_seq = e->last_seq;
	*r = store_settlement_list(e->store, &e->settlements, &csv_settlement_fns, &w, &more);
	if (*r < 0)
		return -1;
	e->rows += w.n;
	e->last_seq = w.last_seq;
	return more && w.n > 0;
}

static int produce(struct export *e, struct buf *b, int (*page)(struct export *, struct buf *, enum store_result *))
{
	enum store_result r;
	int more = page(e, b, &r);
	if (more < 0) /* the store logged the cause; this says what it cost */
		log_write(LOG_ERROR, "csv export cut short by a store error", "request_id", e->request_id, NULL);
	return more;
}

static int produce_cases(void *ctx, struct buf *b)
{
	return produce(ctx, b, case_page);
}

static int produce_settlements(void *ctx, struct buf *b)
{
	return produce(ctx, b, settlement_page);
}

/* The header and the first page into out; the rest streamed by stream. */
static enum handler_result start(struct export *e, struct reply *out, void (*header)(struct buf *),
				 int (*page)(struct export *, struct buf *, enum store_result *),
				 int (*stream)(void *, struct buf *), bool empty)
{
	if (!e || e->oom) {
		if (e)
			export_free(e);
		return reply_problem(out, PROBLEM_INTERNAL_ERROR, NULL);
	}
	header(&out->body);
	enum store_result r = STORE_OK;
	int more = empty ? 0 : page(e, &out->body, &r);
	if (more < 0) {
		export_free(e);
		buf_reset(&out->body);
		return reply_store_problem(out, r);
	}
	out->status = 200;
	out->content_type = CSV_CONTENT_TYPE;
	out->vary = "Accept"; /* JSON without it */
	if (more)
		out->stream = (struct reply_stream){.ctx = e, .produce = stream, .done = export_free};
	else
		export_free(e);
	return HANDLER_ANSWERED;
}

enum handler_result csv_export_cases(const struct request *req, const struct case_filter *f, bool none,
				     struct reply *out)
{
	struct export *e = export_new(req);
	if (e) {
		e->cases = *f;
		e->cases.limit = CSV_EXPORT_PAGE;
		e->cases.tenant = own(e, f->tenant);
		e->cases.q = own(e, f->q);
		e->cases.invoice_number = own(e, f->invoice_number);
		e->cases.debtor_type = own(e, f->debtor_type);
		e->cases.date_of_birth = own(e, f->date_of_birth);
		e->cases.national_id_hash = own(e, f->national_id_hash);
		e->cases.created_from = own(e, f->created_from);
		e->cases.created_to = own(e, f->created_to);
	}
	return start(e, out, csv_case_header, case_page, produce_cases, none);
}

enum handler_result csv_export_settlements(const struct request *req, const struct settlement_filter *f,
					   struct reply *out)
{
	struct export *e = export_new(req);
	if (e) {
		e->settlements = *f;
		e->settlements.limit = CSV_EXPORT_PAGE;
		e->settlements.tenant = own(e, f->tenant);
		e->settlements.settled_from = own(e, f->settled_from);
		e->settlements.settled_to = own(e, f->settled_to);
	}
	return start(e, out, csv_settlement_header, settlement_page, produce_settlements, false);
}
