/* SPDX-License-Identifier: MIT */
#include "handlers/case_validate.h"

#include <assert.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/country.h"
#include "lib/dates.h"
#include "handlers/idnum.h"
#include "lib/money.h"
#include "handlers/phone.h"
#include "handlers/postal.h"
#include "lib/jsonw.h"

#define POINTER_LEN 128    /* as struct field_error's pointer */
#define EXTRA_TEXT_MAX 100 /* extra_fields purpose and value */
#define NO_LIMIT SIZE_MAX  /* for values whose own check reports a bad length better */

static const char *const services[] = {"pre_collection", "collection", "international", "surveillance", NULL};
static const char *const customer_types[] = {"consumer", "business", NULL};

/* ISO 639-1, every code, two letters each (from Debian's iso-codes). */
static const char iso639_1[] =
	"aaabaeafakamanarasavayazbabebgbhbibmbnbobrbscacechcocrcscucvcydadedvdzeeeleneoeseteufafffifjfofr"
	"fygagdglgngugvhahehihohrhthuhyhziaidieigiiikioisitiujajvkakgkikjkkklkmknkokrkskukvkwkylalblglilnlo"
	"ltlulvmgmhmimkmlmnmrmsmtmynanbndnengnlnnnonrnvnyocojomorospapiplpsptqurmrnrorurwsascsdsesgsiskslsm"
	"snsosqsrssstsusvswtatetgthtitktltntotrtstttwtyugukuruzvevivowawoxhyiyozazhzu";

/* What a member read found. */
enum got {
	GOT_NONE, /* absent, null, or an empty/blank string */
	GOT_OK,
	GOT_BAD, /* present but wrong: the error is already reported */
};

/* One validation run: inputs, outputs, and what later rules need of earlier ones. */
struct run {
	const struct agency_settings *settings;
	const char *today;
	struct case_input *out;
	struct field_errors *errs;
	json_object *invoice;         /* NULL unless an object */
	json_object *debtor;          /* NULL unless an object */
	json_object *address;         /* NULL unless an object */
	bool service_known;           /* out->service is one of services[] */
	bool due_usable;              /* due_on valid and not before issued_on */
	bool reminders_usable;        /* at least one reminder, every sent_on valid */
	int last_reminder;            /* index of the latest sent_on */
	char last_sent_on[DATES_LEN]; /* the latest valid sent_on */
	bool country_known;           /* out->country is an ISO 3166-1 code */
	char postal_code[POSTAL_LEN]; /* normalised for the country */
	char language[3];             /* lower case; "" when absent */
};

/* The pointers are built from this file's own keys and small indexes and
 * always fit. snprintf's result is tested only because gcc's
 * -Wformat-truncation cannot know that and warns when it is ignored. */
static void pointer_key(char out[POINTER_LEN], const char *base, const char *key)
{
	if (snprintf(out, POINTER_LEN, "%s/%s", base, key) >= POINTER_LEN)
		out[POINTER_LEN - 1] = '\0';
}

static void pointer_index(char out[POINTER_LEN], const char *base, size_t i)
{
	if (snprintf(out, POINTER_LEN, "%s/%zu", base, i) >= POINTER_LEN)
		out[POINTER_LEN - 1] = '\0';
}

/* Copies a validated (hence bounded) string; NULL copies as "". */
static void set(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1; /* never happens after validation; keeps the copy bounded anyway */
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

static bool one_of(const char *s, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(s, *allowed) == 0)
			return true;
	return false;
}

/* A member of o; JSON null reads as absent (json-c stores null as NULL). */
static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* A member as a usable string, or NULL: the view the renderers use after
 * validation, so that they treat blank strings exactly as the rules did. */
static const char *peek_text(json_object *o, const char *key)
{
	json_object *v = member(o, key);
	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	return blank(s) ? NULL : s;
}

/* Reads a string member of at most max bytes into *val. When absent or
 * blank: reports missing_code if one is given, else it is simply optional. */
static enum got get_text(struct run *r, json_object *o, const char *base, const char *key, size_t max,
			 const char *missing_code, const char **val)
{
	char ptr[POINTER_LEN];
	pointer_key(ptr, base, key);
	*val = NULL;
	json_object *v = member(o, key);
	if (v && !json_object_is_type(v, json_type_string)) {
		field_errors_add(r->errs, ptr, "invalid_type", "%s must be a string", key);
		return GOT_BAD;
	}
	const char *s = v ? json_object_get_string(v) : "";
	size_t len = v ? (size_t)json_object_get_string_len(v) : 0;
	/* "x\u0000y" has length 3 but strlen 1: every later check would see "x". */
	if (strlen(s) != len) {
		field_errors_add(r->errs, ptr, "invalid_value", "%s must not contain NUL characters", key);
		return GOT_BAD;
	}
	if (blank(s)) {
		if (!missing_code)
			return GOT_NONE;
		field_errors_add(r->errs, ptr, missing_code, "%s is required", key);
		return GOT_BAD;
	}
	if (len > max) {
		field_errors_add(r->errs, ptr, "too_long", "%s is longer than %zu bytes", key, max);
		return GOT_BAD;
	}
	*val = s;
	return GOT_OK;
}

/* A string member that must be one of allowed. */
static enum got get_enum(struct run *r, json_object *o, const char *base, const char *key, const char *const *allowed,
			 const char **val)
{
	enum got g = get_text(r, o, base, key, NO_LIMIT, NULL, val);
	if (g != GOT_OK || one_of(*val, allowed))
		return g;
	char ptr[POINTER_LEN], list[128] = "";
	pointer_key(ptr, base, key);
	for (const char *const *a = allowed; *a; a++) {
		if (a != allowed)
			strncat(list, ", ", sizeof list - strlen(list) - 1);
		strncat(list, *a, sizeof list - strlen(list) - 1);
	}
	field_errors_add(r->errs, ptr, "invalid_value", "%s must be one of %s", key, list);
	*val = NULL;
	return GOT_BAD;
}

/* A YYYY-MM-DD member that names a real day, copied into out. */
static enum got get_date(struct run *r, json_object *o, const char *base, const char *key, const char *missing_code,
			 char out[DATES_LEN])
{
	const char *s;
	out[0] = '\0';
	enum got g = get_text(r, o, base, key, NO_LIMIT, missing_code, &s);
	if (g != GOT_OK)
		return g;
	if (!dates_valid(s)) {
		char ptr[POINTER_LEN];
		pointer_key(ptr, base, key);
		field_errors_add(r->errs, ptr, "invalid_date", "%s must be a calendar date YYYY-MM-DD", key);
		return GOT_BAD;
	}
	set(out, DATES_LEN, s);
	return GOT_OK;
}

/* A date member that must not lie after today. */
static enum got get_past_date(struct run *r, json_object *o, const char *base, const char *key,
			      const char *missing_code, char out[DATES_LEN])
{
	enum got g = get_date(r, o, base, key, missing_code, out);
	if (g == GOT_OK && dates_compare(out, r->today) > 0) {
		char ptr[POINTER_LEN];
		pointer_key(ptr, base, key);
		field_errors_add(r->errs, ptr, "invalid_date", "%s %s is in the future (today is %s)", key, out,
				 r->today);
		return GOT_BAD;
	}
	return g;
}

/* An amount in minor units: a JSON integer in [min, MONEY_MAX]. json-c
 * would turn "12" into 12 and 10.5 into 10 if asked for an int64, and
 * clamps huge numbers silently: the type is checked first, then the bound. */
static enum got get_money(struct run *r, json_object *o, const char *base, const char *key, bool required, int64_t min,
			  int64_t *val)
{
	char ptr[POINTER_LEN];
	pointer_key(ptr, base, key);
	*val = 0;
	json_object *v = member(o, key);
	if (!v) {
		if (!required)
			return GOT_NONE;
		field_errors_add(r->errs, ptr, "required", "%s is required", key);
		return GOT_BAD;
	}
	if (json_object_is_type(v, json_type_double)) {
		field_errors_add(r->errs, ptr, "invalid_amount", "%s must be an integer amount in minor units", key);
		return GOT_BAD;
	}
	if (!json_object_is_type(v, json_type_int)) {
		field_errors_add(r->errs, ptr, "invalid_type", "%s must be an integer amount in minor units", key);
		return GOT_BAD;
	}
	int64_t x = json_object_get_int64(v);
	if (x < min || x > MONEY_MAX) {
		field_errors_add(r->errs, ptr, "invalid_amount", "%s must be between %" PRId64 " and %" PRId64, key,
				 min, MONEY_MAX);
		return GOT_BAD;
	}
	*val = x;
	return GOT_OK;
}

/* An object member (required or not). */
static enum got get_object(struct run *r, json_object *o, const char *base, const char *key, bool required,
			   json_object **val)
{
	char ptr[POINTER_LEN];
	pointer_key(ptr, base, key);
	*val = NULL;
	json_object *v = member(o, key);
	if (!v) {
		if (required)
			field_errors_add(r->errs, ptr, "required", "%s is required", key);
		return required ? GOT_BAD : GOT_NONE;
	}
	if (!json_object_is_type(v, json_type_object)) {
		field_errors_add(r->errs, ptr, "invalid_type", "%s must be an object", key);
		return GOT_BAD;
	}
	*val = v;
	return GOT_OK;
}

/* An optional array member of at most max entries. */
static enum got get_array(struct run *r, json_object *o, const char *base, const char *key, size_t max,
			  json_object **val)
{
	char ptr[POINTER_LEN];
	pointer_key(ptr, base, key);
	*val = NULL;
	json_object *v = member(o, key);
	if (!v)
		return GOT_NONE;
	if (!json_object_is_type(v, json_type_array)) {
		field_errors_add(r->errs, ptr, "invalid_type", "%s must be an array", key);
		return GOT_BAD;
	}
	if (json_object_array_length(v) > max) {
		field_errors_add(r->errs, ptr, "too_long", "%s has more than %zu entries", key, max);
		return GOT_BAD;
	}
	*val = v;
	return GOT_OK;
}

/* An optional boolean member. */
static enum got get_bool(struct run *r, json_object *o, const char *base, const char *key, bool *val)
{
	*val = false;
	json_object *v = member(o, key);
	if (!v)
		return GOT_NONE;
	if (!json_object_is_type(v, json_type_boolean)) {
		char ptr[POINTER_LEN];
		pointer_key(ptr, base, key);
		field_errors_add(r->errs, ptr, "invalid_type", "%s must be true or false", key);
		return GOT_BAD;
	}
	*val = json_object_get_boolean(v);
	return GOT_OK;
}

/* your_reference and service. */
static void check_top(struct run *r, json_object *body)
{
	const char *s;
	get_text(r, body, "", "your_reference", CASE_REF_MAX, NULL, &s);
	set(r->out->your_reference, sizeof r->out->your_reference, s);
	enum got g = get_enum(r, body, "", "service", services, &s);
	if (g == GOT_NONE) {
		s = r->settings->service;
		if (!one_of(s, services)) {
			field_errors_add(r->errs, "/service", "required",
					 "service is required: the tenant has no default service");
			return;
		}
	}
	if (g == GOT_BAD)
		return;
	set(r->out->service, sizeof r->out->service, s);
	r->service_known = true;
}

/* number, issued_on, due_on and their order. */
static void check_invoice_dates(struct run *r)
{
	const char *s;
	struct case_input *out = r->out;
	get_text(r, r->invoice, "/invoice", "number", CASE_NUMBER_MAX, "required", &s);
	set(out->invoice_number, sizeof out->invoice_number, s);
	/* A future issued_on is reported alone: comparing other dates with a
	 * date known to be wrong would only pile up errors. */
	bool issued_ok = get_past_date(r, r->invoice, "/invoice", "issued_on", "required", out->issued_on) == GOT_OK;
	if (!issued_ok)
		out->issued_on[0] = '\0';
	enum got due = get_date(r, r->invoice, "/invoice", "due_on", "due_date_required", out->due_on);
	if (due != GOT_OK)
		return;
	if (issued_ok && dates_compare(out->issued_on, out->due_on) > 0) {
		field_errors_add(r->errs, "/invoice/due_on", "invalid_date_order", "due_on %s is before issued_on %s",
				 out->due_on, out->issued_on);
		return; /* one of the two dates is wrong: no overdue rule on a guess */
	}
	r->due_usable = true;
}

/* currency and the three amounts. */
static void check_invoice_money(struct run *r)
{
	const char *s;
	struct case_input *out = r->out;
	if (get_text(r, r->invoice, "/invoice", "currency", NO_LIMIT, "required", &s) == GOT_OK) {
		if (money_currency_valid(s))
			set(out->currency, sizeof out->currency, s);
		else
			field_errors_add(r->errs, "/invoice/currency", "invalid_currency",
					 "currency must be an ISO 4217 code in use, upper case (NOK, EUR, SEK)");
	}
	enum got original = get_money(r, r->invoice, "/invoice", "original_amount", true, 1, &out->original_amount);
	if (get_money(r, r->invoice, "/invoice", "outstanding_amount", true, 1, &out->outstanding_amount) == GOT_OK) {
		if (original == GOT_OK && out->outstanding_amount > out->original_amount)
			field_errors_add(r->errs, "/invoice/outstanding_amount", "invalid_amount",
					 "outstanding_amount %" PRId64 " is more than original_amount %" PRId64,
					 out->outstanding_amount, out->original_amount);
		else if (out->outstanding_amount < r->settings->min_amount)
			field_errors_add(r->errs, "/invoice/outstanding_amount", "amount_below_minimum",
					 "outstanding_amount must be at least %" PRId64 " (the tenant's min_amount)",
					 r->settings->min_amount);
	}
	/* invoice.fees are all fees already charged, reminder fees included
	 * (openapi Invoice.fees): reminders[].fee only documents each one, so it
	 * is not added again. */
	get_money(r, r->invoice, "/invoice", "fees", false, 0, &out->fees);
}

/* One reminder; true if its sent_on is usable. */
static bool check_reminder(struct run *r, json_object *rem, size_t i)
{
	char ptr[POINTER_LEN], sent_on[DATES_LEN];
	int64_t fee;
	pointer_index(ptr, "/invoice/reminders", i);
	if (!json_object_is_type(rem, json_type_object)) {
		field_errors_add(r->errs, ptr, "invalid_type", "a reminder must be an object with sent_on");
		return false;
	}
	get_money(r, rem, ptr, "fee", false, 0, &fee);
	if (get_past_date(r, rem, ptr, "sent_on", "required", sent_on) != GOT_OK)
		return false;
	if (r->out->issued_on[0] && dates_compare(sent_on, r->out->issued_on) < 0) {
		char at[POINTER_LEN];
		pointer_key(at, ptr, "sent_on");
		field_errors_add(r->errs, at, "invalid_date_order", "sent_on %s is before issued_on %s", sent_on,
				 r->out->issued_on);
		return false;
	}
	if (!r->last_sent_on[0] || dates_compare(sent_on, r->last_sent_on) > 0) {
		set(r->last_sent_on, sizeof r->last_sent_on, sent_on);
		r->last_reminder = (int)i;
	}
	return true;
}

/* reminders, description, payment_reference, disputed. */
static void check_invoice_rest(struct run *r)
{
	const char *s;
	json_object *rems;
	bool disputed;
	get_text(r, r->invoice, "/invoice", "description", CASE_DESC_MAX, NULL, &s);
	get_text(r, r->invoice, "/invoice", "payment_reference", CASE_REF_MAX, NULL, &s);
	enum got g = get_array(r, r->invoice, "/invoice", "reminders", CASE_REMINDERS_MAX, &rems);
	size_t n = rems ? json_object_array_length(rems) : 0;
	bool all_ok = true;
	for (size_t i = 0; i < n; i++)
		all_ok &= check_reminder(r, json_object_array_get_idx(rems, i), i);
	r->reminders_usable = n > 0 && all_ok;
	if (g != GOT_BAD && n == 0 && r->service_known && strcmp(r->out->service, "collection") == 0)
		field_errors_add(r->errs, "/invoice/reminders", "reminder_required",
				 "service collection needs at least one reminder sent before");
	if (get_bool(r, r->invoice, "/invoice", "disputed", &disputed) == GOT_OK && disputed)
		field_errors_add(r->errs, "/invoice/disputed", "claim_disputed",
				 "a disputed claim cannot be sent to collection");
}

/* line1, line2, city, country, postal_code (checked for the country). */
static void check_address(struct run *r)
{
	const char *s;
	const char *ptr_base = "/debtor/address";
	if (get_object(r, r->debtor, "/debtor", "address", true, &r->address) != GOT_OK)
		return;
	get_text(r, r->address, ptr_base, "line1", CASE_TEXT_MAX, "required", &s);
	get_text(r, r->address, ptr_base, "line2", CASE_TEXT_MAX, NULL, &s);
	get_text(r, r->address, ptr_base, "city", CASE_TEXT_MAX, "required", &s);
	if (get_text(r, r->address, ptr_base, "country", NO_LIMIT, "required", &s) == GOT_OK) {
		r->country_known = country_normalise(s, r->out->country);
		if (!r->country_known)
			field_errors_add(r->errs, "/debtor/address/country", "invalid_country",
					 "country must be an ISO 3166-1 alpha-2 code (NO, SE, DE)");
	}
	if (get_text(r, r->address, ptr_base, "postal_code", NO_LIMIT, "required", &s) == GOT_OK) {
		/* With an unknown country, only the form check: its own error says enough. */
		const char *country = r->country_known ? r->out->country : NULL;
		if (!postal_normalise(country, s, r->postal_code))
			field_errors_add(r->errs, "/debtor/address/postal_code", "invalid_postal_code",
					 "postal_code is not a plausible postal code%s%s", country ? " for " : "",
					 country ? country : "");
	}
}

/* consumer | business: the tenant's fixed type, or with auto (and any
 * other value, which PUT /v1/agency-settings never stores) the debtor's own
 * customer_type when a business name is given too. */
static void resolve_debtor_type(struct run *r, const char *own_type, const char *business_name)
{
	const char *fixed = r->settings->customer_type;
	bool business;
	if (strcmp(fixed, "consumer") == 0 || strcmp(fixed, "business") == 0)
		business = strcmp(fixed, "business") == 0;
	else
		business = business_name && own_type && strcmp(own_type, "business") == 0;
	set(r->out->debtor_type, sizeof r->out->debtor_type, business ? "business" : "consumer");
}

/* Names, debtor type, org_number, national_id, date_of_birth. */
static void check_identity(struct run *r)
{
	const char *own_type, *name, *business_name, *s;
	struct case_input *out = r->out;
	const char *country = r->country_known ? out->country : NULL;
	get_text(r, r->debtor, "/debtor", "customer_number", CASE_REF_MAX, NULL, &s);
	get_enum(r, r->debtor, "/debtor", "customer_type", customer_types, &own_type);
	get_text(r, r->debtor, "/debtor", "name", CASE_TEXT_MAX, NULL, &name);
	get_text(r, r->debtor, "/debtor", "business_name", CASE_TEXT_MAX, NULL, &business_name);
	set(out->debtor_name, sizeof out->debtor_name, name);
	set(out->business_name, sizeof out->business_name, business_name);
	resolve_debtor_type(r, own_type, business_name);
	bool business = strcmp(out->debtor_type, "business") == 0;
	bool name_bad = field_errors_has(r->errs, "/debtor/name");
	bool business_name_bad = field_errors_has(r->errs, "/debtor/business_name");
	if (!business && !name && !name_bad)
		field_errors_add(r->errs, "/debtor/name", "required", "name is required for a consumer debtor");
	if (business && !business_name && !business_name_bad)
		field_errors_add(r->errs, "/debtor/business_name", "required",
				 "business_name is required for a business debtor");

	enum got g = get_text(r, r->debtor, "/debtor", "org_number", IDNUM_MAX, NULL, &s);
	if (g == GOT_NONE && business)
		field_errors_add(r->errs, "/debtor/org_number", "org_number_required",
				 "org_number is required for a business debtor");
	if (g == GOT_OK && !idnum_org_number(country, s, out->org_number)) {
		if (idnum_org_number_has_checksum(country))
			field_errors_add(r->errs, "/debtor/org_number", "invalid_org_number",
					 "org_number is not a valid %s organisation number", country);
		else
			field_errors_add(r->errs, "/debtor/org_number", "invalid_org_number",
					 "org_number must be 1 to 32 letters, digits, spaces or dashes");
	}
	if (get_text(r, r->debtor, "/debtor", "national_id", IDNUM_MAX, NULL, &s) == GOT_OK &&
	    !idnum_national_id(country, s, out->national_id)) {
		if (idnum_national_id_has_checksum(country))
			field_errors_add(r->errs, "/debtor/national_id", "invalid_national_id",
					 "national_id is not a valid %s identity number", country);
		else
			field_errors_add(r->errs, "/debtor/national_id", "invalid_national_id",
					 "national_id must be 1 to 32 letters, digits, spaces or dashes");
	}
	get_past_date(r, r->debtor, "/debtor", "date_of_birth", NULL, out->date_of_birth);
}

/* A pragmatic address check: one '@', a local part of at most 64 bytes
 * without spaces or the characters that need quoting, a domain of at least
 * two dot-separated labels of [A-Za-z0-9-]. Quoted local parts and IP
 * literals are valid RFC 5321 but no billing system sends them. */
static bool email_ok(const char *s)
{
	/* A second '@' lands in the domain, whose labels refuse it. */
	const char *at = strchr(s, '@');
	if (!at)
		return false;
	size_t local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || at[-1] == '.')
		return false;
	for (const char *p = s; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == 0x7f || strchr("\"(),:;<>[\\]", c) || (c == '.' && p[1] == '.'))
			return false;
	}
	const char *label = at + 1;
	int labels = 0;
	for (;;) {
		size_t len = strcspn(label, ".");
		if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
			return false;
		for (size_t i = 0; i < len; i++) {
			char c = label[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
				return false;
		}
		labels++;
		if (label[len] == '\0')
			return labels >= 2 &&
			       strspn(label, "0123456789") < len; /* a top-level domain is never numeric */
		label += len + 1;
	}
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* An ISO 639-1 code in either case; out gets it lower case. */
static bool language_ok(const char *s, char out[3])
{
	if (strlen(s) != 2)
		return false;
	char lc[3] = {lower(s[0]), lower(s[1]), '\0'};
	for (size_t i = 0; iso639_1[i]; i += 2)
		if (iso639_1[i] == lc[0] && iso639_1[i + 1] == lc[1]) {
			memcpy(out, lc, 3);
			return true;
		}
	return false;
}

/* One extra field; returns its usable value, NULL if none. */
static const char *check_extra_field(struct run *r, json_object *f, size_t i)
{
	char ptr[POINTER_LEN];
	const char *purpose, *value;
	pointer_index(ptr, "/debtor/extra_fields", i);
	if (!json_object_is_type(f, json_type_object)) {
		field_errors_add(r->errs, ptr, "invalid_type",
				 "an extra field must be an object with purpose and value");
		return NULL;
	}
	get_text(r, f, ptr, "purpose", EXTRA_TEXT_MAX, "required", &purpose);
	get_text(r, f, ptr, "value", EXTRA_TEXT_MAX, NULL, &value);
	return purpose && strcmp(purpose, "phone_number") == 0 ? value : NULL;
}

/* The phone_number extra field at index at, normalised with the country. */
static void check_phone_fallback(struct run *r, const char *value, size_t at)
{
	const char *country = r->country_known ? r->out->country : NULL;
	bool international = value[strspn(value, " ")] == '+' || strncmp(value + strspn(value, " "), "00", 2) == 0;
	if (phone_normalise(value, country, r->out->phone))
		return;
	/* A national number needs the country: when that is what is missing,
	 * the country's own error is the one to fix. */
	if (!country && !international)
		return;
	char ptr[POINTER_LEN];
	snprintf(ptr, sizeof ptr, "/debtor/extra_fields/%zu/value", at);
	if (country)
		field_errors_add(r->errs, ptr, "invalid_phone", "the phone_number is not a usable number in %s",
				 country);
	else
		field_errors_add(r->errs, ptr, "invalid_phone",
				 "the phone_number is not a usable international number");
}

/* email, language, phone and the extra_fields phone fallback. */
static void check_contact(struct run *r)
{
	const char *s, *phone;
	json_object *extras;
	if (get_text(r, r->debtor, "/debtor", "email", CASE_EMAIL_MAX, NULL, &s) == GOT_OK && !email_ok(s))
		field_errors_add(r->errs, "/debtor/email", "invalid_email", "email is not a valid e-mail address");
	if (get_text(r, r->debtor, "/debtor", "language", NO_LIMIT, NULL, &s) == GOT_OK && !language_ok(s, r->language))
		field_errors_add(r->errs, "/debtor/language", "invalid_value",
				 "language must be an ISO 639-1 code (nb, sv, fi, da, en)");
	get_array(r, r->debtor, "/debtor", "extra_fields", CASE_EXTRA_FIELDS_MAX, &extras);
	size_t n = extras ? json_object_array_length(extras) : 0;
	const char *fallback = NULL;
	size_t fallback_at = 0;
	for (size_t i = 0; i < n; i++) {
		const char *v = check_extra_field(r, json_object_array_get_idx(extras, i), i);
		if (v && !fallback) {
			fallback = v;
			fallback_at = i;
		}
	}
	enum got g = get_text(r, r->debtor, "/debtor", "phone", NO_LIMIT, NULL, &phone);
	if (g == GOT_OK && !phone_compact_e164(phone, r->out->phone))
		field_errors_add(r->errs, "/debtor/phone", "invalid_phone",
				 "phone must be in E.164 form, e.g. +4791234567");
	if (g == GOT_NONE && fallback)
		check_phone_fallback(r, fallback, fallback_at);
}

static void check_debtor(struct run *r, json_object *body)
{
	if (get_object(r, body, "", "debtor", true, &r->debtor) != GOT_OK)
		return;
	/* The address first: the country decides the checksums, the postal
	 * code and the phone's calling code. */
	check_address(r);
	check_identity(r);
	check_contact(r);
}

/* The dates the case may be sent from: due_on + max(min_days_overdue, the
 * country's legal floor) and, for collection, the last reminder +
 * reminder_wait_days. earliest_send_date is the later of those. */
static void check_timing(struct run *r)
{
	struct case_input *out = r->out;
	const struct agency_settings *st = r->settings;
	char earliest[DATES_LEN] = "", after_reminder[DATES_LEN] = "";
	if (r->due_usable) {
		int days = st->min_days_overdue > 0 ? st->min_days_overdue : 0;
		int legal = r->country_known ? country_legal_overdue_days(out->country) : 0;
		if (legal > days)
			days = legal;
		if (!dates_add_days(out->due_on, days, earliest))
			field_errors_add(r->errs, "/invoice/due_on", "not_overdue_enough",
					 "due %s; too far in the future to be sent", out->due_on);
		else if (dates_compare(r->today, earliest) < 0)
			field_errors_add(r->errs, "/invoice/due_on", "not_overdue_enough",
					 "due %s; can be sent from %s (%d days overdue)", out->due_on, earliest, days);
	}
	if (r->service_known && strcmp(out->service, "collection") == 0 && r->reminders_usable) {
		int wait = st->reminder_wait_days > 0 ? st->reminder_wait_days : 0;
		char ptr[POINTER_LEN];
		snprintf(ptr, sizeof ptr, "/invoice/reminders/%d/sent_on", r->last_reminder);
		if (!dates_add_days(r->last_sent_on, wait, after_reminder))
			field_errors_add(r->errs, ptr, "reminder_wait_not_elapsed",
					 "last reminder sent %s; reminder_wait_days is out of range", r->last_sent_on);
		else if (dates_compare(r->today, after_reminder) < 0)
			field_errors_add(r->errs, ptr, "reminder_wait_not_elapsed",
					 "last reminder sent %s; can be sent from %s (%d days after the reminder)",
					 r->last_sent_on, after_reminder, wait);
	}
	if (earliest[0])
		set(out->earliest_send_date, sizeof out->earliest_send_date,
		    dates_compare(after_reminder, earliest) > 0 ? after_reminder : earliest);
}

/* Writes "key": the member's integer, 0 when absent (the contract's
 * default for fees). Validated: int or absent. */
static void render_money(struct buf *b, json_object *o, const char *key)
{
	json_object *v = member(o, key);
	jw_kint(b, false, key, v ? json_object_get_int64(v) : 0);
}

static void render_invoice(struct run *r, struct buf *b)
{
	const struct case_input *in = r->out;
	json_object *rems = member(r->invoice, "reminders");
	bool disputed = false;
	buf_putc(b, '{');
	jw_kstr(b, true, "number", in->invoice_number);
	jw_kstr(b, false, "issued_on", in->issued_on);
	jw_kstr(b, false, "due_on", in->due_on);
	jw_kstr(b, false, "currency", in->currency);
	jw_kint(b, false, "original_amount", in->original_amount);
	jw_kint(b, false, "outstanding_amount", in->outstanding_amount);
	render_money(b, r->invoice, "fees");
	jw_kstr(b, false, "description", peek_text(r->invoice, "description"));
	jw_kstr(b, false, "payment_reference", peek_text(r->invoice, "payment_reference"));
	jw_key(b, false, "reminders");
	buf_putc(b, '[');
	size_t n = rems ? json_object_array_length(rems) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *rem = json_object_array_get_idx(rems, i);
		buf_puts(b, i ? ",{" : "{");
		jw_kstr(b, true, "sent_on", peek_text(rem, "sent_on"));
		render_money(b, rem, "fee");
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
	json_object *d = member(r->invoice, "disputed");
	if (d)
		disputed = json_object_get_boolean(d);
	jw_kbool(b, false, "disputed", disputed);
	buf_putc(b, '}');
}

static void render_extra_fields(struct run *r, struct buf *b)
{
	json_object *extras = member(r->debtor, "extra_fields");
	size_t n = extras ? json_object_array_length(extras) : 0;
	jw_key(b, false, "extra_fields");
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(extras, i);
		buf_puts(b, i ? ",{" : "{");
		jw_kstr(b, true, "purpose", peek_text(f, "purpose"));
		jw_kstr(b, false, "value", peek_text(f, "value"));
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

static void render_debtor(struct run *r, struct buf *b)
{
	const struct case_input *in = r->out;
	char masked[sizeof in->national_id];
	mask_national_id(in->national_id, masked, sizeof masked);
	buf_putc(b, '{');
	jw_kstr(b, true, "customer_number", peek_text(r->debtor, "customer_number"));
	jw_kstr(b, false, "customer_type", peek_text(r->debtor, "customer_type"));
	jw_kstr_or_null(b, false, "name", in->debtor_name);
	jw_kstr_or_null(b, false, "business_name", in->business_name);
	jw_kstr_or_null(b, false, "org_number", in->org_number);
	jw_kstr_or_null(b, false, "national_id", masked);
	jw_kstr_or_null(b, false, "date_of_birth", in->date_of_birth);
	jw_kstr(b, false, "email", peek_text(r->debtor, "email"));
	jw_kstr_or_null(b, false, "phone", in->phone);
	render_extra_fields(r, b);
	jw_kstr_or_null(b, false, "language", r->language);
	jw_key(b, false, "address");
	buf_putc(b, '{');
	jw_kstr(b, true, "line1", peek_text(r->address, "line1"));
	jw_kstr(b, false, "line2", peek_text(r->address, "line2"));
	jw_kstr(b, false, "postal_code", r->postal_code);
	jw_kstr(b, false, "city", peek_text(r->address, "city"));
	jw_kstr(b, false, "country", in->country);
	buf_puts(b, "}}");
}

/* Renders the accepted invoice and debtor; false on allocation failure. */
static bool render(struct run *r)
{
	struct buf inv = {0}, deb = {0};
	render_invoice(r, &inv);
	render_debtor(r, &deb);
	if (inv.oom || deb.oom) {
		buf_free(&inv);
		buf_free(&deb);
		return false;
	}
	r->out->invoice_json = buf_steal(&inv, NULL);
	r->out->debtor_json = buf_steal(&deb, NULL);
	return true;
}

bool case_validate(json_object *body, const struct agency_settings *settings, const char *today, struct case_input *out,
		   struct field_errors *errs)
{
	assert(dates_valid(today)); /* the caller's clock, never client input */
	memset(out, 0, sizeof *out);
	struct run r = {.settings = settings, .today = today, .out = out, .errs = errs, .last_reminder = -1};
	size_t errs_before = errs->n;
	if (!json_object_is_type(body, json_type_object)) {
		field_errors_add(errs, "", "invalid_type", "the body must be a JSON object");
		return false;
	}
	check_top(&r, body);
	if (get_object(&r, body, "", "invoice", true, &r.invoice) == GOT_OK) {
		check_invoice_dates(&r);
		check_invoice_money(&r);
		check_invoice_rest(&r);
	}
	check_debtor(&r, body);
	check_timing(&r);
	if (errs->n != errs_before)
		return false;
	/* Out of memory: false with no field error, which the caller answers 500. */
	return render(&r);
}

void case_input_free(struct case_input *in)
{
	if (!in)
		return;
	free(in->invoice_json);
	free(in->debtor_json);
	in->invoice_json = NULL;
	in->debtor_json = NULL;
}

void mask_national_id(const char *id, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	size_t n = id ? strlen(id) : 0;
	if (n > outlen - 1)
		n = outlen - 1;
	/* Four clear characters identify a person only together with the rest;
	 * an id of four or fewer would be shown whole, so it is masked whole. */
	size_t clear = n > 4 ? 4 : 0;
	size_t len = id ? strlen(id) : 0;
	memset(out, '*', n - clear);
	if (clear)
		memcpy(out + n - clear, id + len - clear, clear);
	out[n] = '\0';
}
