/* SPDX-License-Identifier: MIT */
/* lib/csv.h (RFC 4180 cells, formula neutralisation) and the export rows of
 * handlers/csv_rows.h (columns, masking). */
#include <criterion/criterion.h>
#include <string.h>

#include "handlers/csv_rows.h"
#include "lib/csv.h"

static const struct {
	const char *in, *want;
} cells[] = {
	{NULL, ""},
	{"", ""},
	{"plain", "plain"},
	{"a,b", "\"a,b\""},
	{"say \"hi\"", "\"say \"\"hi\"\"\""},
	{"\"", "\"\"\"\""},
	{"two\r\nlines", "\"two\r\nlines\""},
	{"line\nfeed", "\"line\nfeed\""},
	{"cr\rin", "\"cr\rin\""},
	{"=1+2", "'=1+2"},
	{"+4791234567", "'+4791234567"},
	{"-5", "'-5"},
	{"@SUM(A1)", "'@SUM(A1)"},
	{"\tx", "'\tx"},
	{"\rx", "\"'\rx\""},
	{"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
	{"a=b", "a=b"},                         /* only the first character counts */
	{" =x", " =x"},
	{"Ærøskøbing Å", "Ærøskøbing Å"},       /* UTF-8 passes through */
	{"Łódź, \"Ż\"", "\"Łódź, \"\"Ż\"\"\""},
	{"日本", "日本"},
};

Test(csv, cells_are_quoted_and_neutralised)
{
	for (size_t i = 0; i < sizeof cells / sizeof *cells; i++) {
		struct buf b = {0};
		csv_cell(&b, true, cells[i].in);
		cr_expect_str_eq(buf_cstr(&b), cells[i].want, "cell %zu", i);
		buf_free(&b);
	}
}

Test(csv, rows_are_comma_separated_and_end_in_crlf)
{
	struct buf b = {0};
	static const char *const names[] = {"id", "name", NULL};
	csv_header(&b, names);
	csv_cell(&b, true, "x");
	csv_cell(&b, false, NULL);
	csv_cell_int(&b, false, -125);
	csv_cell_int(&b, false, 124900);
	csv_row_end(&b);
	cr_assert_str_eq(buf_cstr(&b), "id,name\r\nx,,-125,124900\r\n");
	buf_free(&b);
}

/* The n-th (0-based) comma-separated cell of a row without quoted cells. */
static void nth_cell(const char *row, int n, char *out, size_t cap)
{
	const char *p = row;
	for (int i = 0; i < n && p; i++)
		p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
	cr_assert(p, "row has no cell %d", n);
	size_t len = strcspn(p, ",\r");
	cr_assert_lt(len, cap);
	memcpy(out, p, len);
	out[len] = '\0';
}

/* The index of column name in the header row. */
static int column(const char *header, const char *name)
{
	char cell[64];
	for (int i = 0; i < 64; i++) {
		nth_cell(header, i, cell, sizeof cell);
		if (!strcmp(cell, name))
			return i;
	}
	cr_assert_fail("no column %s", name);
	return -1;
}

static struct case_row example(const char *debtor_json)
{
	return (struct case_row){
		.id = "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YA", .tenant = "t1", .seq = 7, .status = "paid",
		.stage = "collection", .service = "collection", .debtor_type = "consumer", .your_reference = "cus_551",
		.invoice_number = "INV-1",
		.invoice_json = "{\"number\":\"INV-1\",\"issued_on\":\"2026-01-01\",\"due_on\":\"2026-01-31\"}",
		.debtor_json = debtor_json, .currency = "NOK", .original = 124900, .paid = 124900, .remaining = 0,
		.costs = 3500, .created_at = "2026-02-01T10:00:00.000Z", .updated_at = "2026-02-02T10:00:00.000Z",
	};
}

Test(csv, a_case_row_has_every_column_and_the_id_masked)
{
	struct buf h = {0}, r = {0};
	csv_case_header(&h);
	/* A clear id in the stored object (never written so) is masked too. */
	struct case_row c = example("{\"name\":\"Kari Nordmann\",\"national_id\":\"15048512345\","
				    "\"date_of_birth\":\"1985-04-15\",\"email\":\"kari@example.no\"}");
	csv_case_row(&r, &c);
	const char *header = buf_cstr(&h), *row = buf_cstr(&r);
	cr_assert(strstr(row, "\r\n") == row + strlen(row) - 2, "one row, CRLF-terminated");
	cr_assert_null(strstr(row, "12345,"), "the clear digits are gone");
	char cell[80];
	static const struct {
		const char *col, *want;
	} want[] = {
		{"id", "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YA"}, {"status", "paid"}, {"state", "closed"},
		{"invoice_number", "INV-1"}, {"issued_on", "2026-01-01"}, {"due_on", "2026-01-31"},
		{"debtor_name", "Kari Nordmann"}, {"national_id", "*******2345"}, {"date_of_birth", "1985-04-15"},
		{"currency", "NOK"}, {"original", "124900"}, {"paid", "124900"}, {"remaining", "0"},
		{"costs", "3500"}, {"agency_case_id", ""}, {"closed_at", ""},
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		nth_cell(row, column(header, want[i].col), cell, sizeof cell);
		cr_expect_str_eq(cell, want[i].want, "column %s", want[i].col);
	}
	int cols = 1, cells_n = 1;
	for (const char *p = header; *p; p++)
		cols += *p == ',';
	for (const char *p = row; *p; p++)
		cells_n += *p == ',';
	cr_assert_eq(cells_n, cols);
	buf_free(&h);
	buf_free(&r);
}

Test(csv, a_masked_id_stays_as_the_json_shows_it_and_a_formula_name_is_neutralised)
{
	struct buf h = {0}, r = {0};
	csv_case_header(&h);
	struct case_row c = example("{\"name\":\"=cmd|'/C calc'!A0\",\"national_id\":\"*******4521\"}");
	csv_case_row(&r, &c);
	char cell[80];
	nth_cell(buf_cstr(&r), column(buf_cstr(&h), "national_id"), cell, sizeof cell);
	cr_expect_str_eq(cell, "*******4521");
	cr_expect(strstr(buf_cstr(&r), ",'=cmd|'/C calc'!A0,") != NULL, "%s", buf_cstr(&r));
	buf_free(&h);
	buf_free(&r);
}

static void settle(struct csv_settlements *w, int nalloc)
{
	const struct settlement_row st = {
		.id = "st_1", .seq = 3, .agency_settlement_id = "STL-1", .settlement_date = "2026-03-02",
		.agency = "Confirma", .amount = 26000, .currency = "NOK", .created_at = "2026-03-02T06:00:00.000Z",
	};
	const struct allocation_row a = {
		.allocation_id = "AL-1", .case_id = "cc_x", .invoice_number = "-INV", .amount = 25000,
		.allocation_date = "2026-03-01",
	};
	csv_settlement_fns.on_settlement(w, &st);
	for (int i = 0; i < nalloc; i++)
		csv_settlement_fns.on_allocation(w, &a);
	csv_settlement_fns.on_end(w, &st);
}

Test(csv, settlements_are_one_row_per_allocation)
{
	struct buf b = {0};
	struct csv_settlements w = {.b = &b};
	settle(&w, 2);
	settle(&w, 0);
	const char *row = "st_1,STL-1,2026-03-02,Confirma,,26000,NOK,2026-03-02T06:00:00.000Z,";
	struct buf want = {0};
	buf_printf(&want, "%sAL-1,cc_x,'-INV,25000,2026-03-01\r\n%sAL-1,cc_x,'-INV,25000,2026-03-01\r\n"
			  "%s,,,,\r\n", row, row, row);
	cr_assert_str_eq(buf_cstr(&b), buf_cstr(&want));
	cr_assert_eq(w.n, 2);
	cr_assert_eq(w.last_seq, 3);
	struct buf h = {0};
	csv_settlement_header(&h);
	int hc = 1;
	for (const char *p = buf_cstr(&h); *p; p++)
		hc += *p == ',';
	cr_assert_eq(hc, 13);
	buf_free(&h);
	buf_free(&b);
	buf_free(&want);
}
