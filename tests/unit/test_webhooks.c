/* SPDX-License-Identifier: MIT */
/* Unit tests of the webhook wire layer without any network: signatures
 * (the Standard Webhooks reference vector, verification), the SSRF guard's
 * address classes on sockaddr structs, webhook URL checks, and the line
 * webhook-listen prints. test_webhooks_send.c drives real deliveries on
 * loopback. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "webhooks/dispatch.h"
#include "webhooks/event_line.h"
#include "webhooks/guard.h"
#include "webhooks/sign.h"

/* From the Standard Webhooks reference libraries' tests (also checked
 * against the npm package in tests/http/test_webhook_listen.py). */
#define VEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VEC_TS 1614265330
#define VEC_BODY "{\"test\": 2432232314}"
#define VEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static enum webhook_verify_result verify_vec(const char *secret, const char *ts, const char *sig, const char *body,
					     int64_t now)
{
	return webhook_verify(secret, VEC_ID, ts, sig, body, strlen(body), now, WEBHOOK_TOLERANCE_S);
}

Test(sign, reference_vector)
{
	char sig[WEBHOOK_SIGNATURE_LEN];
	cr_assert(webhook_sign(VEC_SECRET, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig, sizeof sig));
	cr_expect_str_eq(sig, VEC_SIG);
	/* The secret without its prefix is the same key. */
	const char *bare = &VEC_SECRET[strlen("whsec_")];
	cr_assert(webhook_sign(bare, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig, sizeof sig));
	cr_expect_str_eq(sig, VEC_SIG);
}

Test(sign, refuses_bad_secrets_and_small_buffers)
{
	char sig[WEBHOOK_SIGNATURE_LEN];
	const char *bad[] = {"", "whsec_", "whsec_not base64", "whsec_abd", "whsec_YQ===", "whsec_Y!==", NULL};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_expect_not(webhook_sign(bad[i], VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig, sizeof sig),
			      "secret %zu accepted", i);
		cr_expect_str_eq(sig, "");
		cr_expect_not(webhook_secret_valid(bad[i]), "secret %zu valid", i);
	}
	cr_expect_not(webhook_sign(VEC_SECRET, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), sig, sizeof sig - 1));
	cr_expect(webhook_secret_valid(VEC_SECRET));
	cr_expect(webhook_secret_valid("whsec_YQ==")); /* one byte, padded */
	cr_expect(webhook_secret_valid("YQ"));          /* unpadded, no prefix */
}

Test(sign, new_secret_is_32_random_bytes_in_base64)
{
	char a[WEBHOOK_SECRET_MAX], b[WEBHOOK_SECRET_MAX];
	cr_assert(webhook_secret_new(a));
	cr_assert(webhook_secret_new(b));
	cr_expect_eq(strncmp(a, "whsec_", 6), 0);
	cr_expect_eq(strlen(a), 6 + 44);
	cr_expect_str_neq(a, b);
	unsigned char raw[64];
	int n = EVP_DecodeBlock(raw, (const unsigned char *)a + 6, 44);
	cr_expect_eq(n, 33); /* EVP_DecodeBlock counts the one '=' as a byte */
	cr_expect_eq(a[6 + 43], '=');
	cr_expect(webhook_secret_valid(a));
}

Test(verify, accepts_the_vector_and_refuses_what_changed)
{
	int64_t now = VEC_TS + 10;
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", VEC_SIG, VEC_BODY, now), WEBHOOK_VERIFIED);
	cr_expect_eq(verify_vec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx", "1614265330", VEC_SIG, VEC_BODY, now),
		     WEBHOOK_BAD_SIGNATURE, "wrong secret");
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", VEC_SIG, "{\"test\": 2432232315}", now),
		     WEBHOOK_BAD_SIGNATURE, "tampered body");
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265331", VEC_SIG, VEC_BODY, now), WEBHOOK_BAD_SIGNATURE,
		     "another timestamp");
	cr_expect_eq(webhook_verify(VEC_SECRET, "msg_other", "1614265330", VEC_SIG, VEC_BODY, strlen(VEC_BODY), now,
				    300),
		     WEBHOOK_BAD_SIGNATURE, "another id");
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", VEC_BODY,
				now),
		     WEBHOOK_BAD_SIGNATURE, "truncated signature");
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VEC_BODY,
				now),
		     WEBHOOK_BAD_SIGNATURE, "another version");
	cr_expect_eq(verify_vec("whsec_!!", "1614265330", VEC_SIG, VEC_BODY, now), WEBHOOK_BAD_SIGNATURE,
		     "unusable secret");
}

Test(verify, timestamps_within_five_minutes_only)
{
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", VEC_SIG, VEC_BODY, VEC_TS + 300), WEBHOOK_VERIFIED);
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", VEC_SIG, VEC_BODY, VEC_TS - 300), WEBHOOK_VERIFIED);
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", VEC_SIG, VEC_BODY, VEC_TS + 301), WEBHOOK_BAD_TIMESTAMP,
		     "old");
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", VEC_SIG, VEC_BODY, VEC_TS - 301), WEBHOOK_BAD_TIMESTAMP,
		     "future");
	const char *junk[] = {"", "abc", "1614265330.5", "-1614265330", " 1614265330", "1614265330x",
			      "99999999999999999999", NULL};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		cr_expect_eq(verify_vec(VEC_SECRET, junk[i], VEC_SIG, VEC_BODY, VEC_TS), WEBHOOK_BAD_TIMESTAMP,
			     "timestamp %zu", i);
}

Test(verify, any_v1_signature_of_the_list_may_match)
{
	int64_t now = VEC_TS;
	const char *lists[] = {
		"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " VEC_SIG,
		"v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= " VEC_SIG,
		VEC_SIG "  v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
		"v2,xyz " VEC_SIG " v1,",
	};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", lists[i], VEC_BODY, now), WEBHOOK_VERIFIED,
			     "list %zu", i);
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
				VEC_BODY, now),
		     WEBHOOK_BAD_SIGNATURE, "only v1 counts");
	cr_expect_eq(verify_vec(VEC_SECRET, "1614265330", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", VEC_BODY,
				now),
		     WEBHOOK_BAD_SIGNATURE);
}

Test(verify, missing_headers)
{
	size_t n = strlen(VEC_BODY);
	cr_expect_eq(webhook_verify(VEC_SECRET, NULL, "1614265330", VEC_SIG, VEC_BODY, n, VEC_TS, 300),
		     WEBHOOK_MISSING_HEADERS);
	cr_expect_eq(webhook_verify(VEC_SECRET, "", "1614265330", VEC_SIG, VEC_BODY, n, VEC_TS, 300),
		     WEBHOOK_MISSING_HEADERS);
	cr_expect_eq(webhook_verify(VEC_SECRET, VEC_ID, "1614265330", NULL, VEC_BODY, n, VEC_TS, 300),
		     WEBHOOK_MISSING_HEADERS);
	cr_expect_eq(webhook_verify(VEC_SECRET, VEC_ID, "1614265330", "", VEC_BODY, n, VEC_TS, 300),
		     WEBHOOK_MISSING_HEADERS);
	/* A missing timestamp is a bad timestamp. */
	cr_expect_eq(webhook_verify(VEC_SECRET, VEC_ID, NULL, VEC_SIG, VEC_BODY, n, VEC_TS, 300),
		     WEBHOOK_BAD_TIMESTAMP);
}

/* Classification of one literal address, v4 or v6. */
static bool public(const char *ip)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	if (inet_pton(AF_INET, ip, &in.sin_addr) == 1)
		return guard_address_public((struct sockaddr *)&in);
	cr_assert_eq(inet_pton(AF_INET6, ip, &in6.sin6_addr), 1, "%s is no address", ip);
	return guard_address_public((struct sockaddr *)&in6);
}

/* Each closed range with the addresses just outside it. */
static const char *const closed[] = {
	"0.0.0.0", "0.255.255.255", "10.0.0.0", "10.255.255.255", "100.64.0.0", "100.127.255.255", "127.0.0.1",
	"127.0.0.2", "127.255.255.255", "169.254.0.0", "169.254.169.254", "169.254.255.255", "172.16.0.0",
	"172.31.255.255", "192.0.0.0", "192.0.0.255", "192.0.2.1", "192.168.0.0", "192.168.255.255", "198.18.0.0",
	"198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.255", "240.0.0.0",
	"255.255.255.254", "255.255.255.255",
	"::", "::1", "fc00::", "fd12:3456::1", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::", "fe80::1",
	"febf:ffff::1", "fec0::1", "ff00::", "ff02::1", "2001:db8::", "2001:db8:ffff::1", "100::1",
	"::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:0.0.0.0", "::127.0.0.1", "::10.0.0.1", "::ffff:0:127.0.0.1",
	"64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::1", "2002:c0a8:101::1",
};
static const char *const open_[] = {
	"1.0.0.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
	"128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.0", "192.0.3.0",
	"192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255", "93.184.216.34",
	"2606:4700::1", "2a00:1450:4001:82a::200e", "2001:4860:4860::8888", "2001:db9::1", "2001:db7:ffff::1",
	"fbff::1", "fe7f:ffff::1", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1",
};

Test(guard, closed_ranges_and_their_neighbours)
{
	for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++)
		cr_expect_not(public(closed[i]), "%s counted as public", closed[i]);
	for (size_t i = 0; i < sizeof open_ / sizeof open_[0]; i++)
		cr_expect(public(open_[i]), "%s counted as not public", open_[i]);
}

Test(guard, other_families_are_refused)
{
	struct sockaddr sa = {.sa_family = AF_UNIX};
	cr_expect_not(guard_address_public(&sa));
	sa.sa_family = AF_UNSPEC;
	cr_expect_not(guard_address_public(&sa));
	cr_expect_not(guard_address_public(NULL));
}

Test(guard, opensocket_refuses_before_any_socket_exists)
{
	struct guard g = {.allow_private = false};
	struct {
		struct curl_sockaddr head;
		char rest[sizeof(struct sockaddr_in6)];
	} a = {.head = {.family = AF_INET, .socktype = SOCK_STREAM, .protocol = IPPROTO_TCP,
			.addrlen = sizeof(struct sockaddr_in)}};
	struct sockaddr_in *in = (struct sockaddr_in *)&a.head.addr;
	in->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
	uint64_t before = guard_refused_total();
	cr_expect_eq(guard_opensocket(&g, CURLSOCKTYPE_IPCXN, &a.head), CURL_SOCKET_BAD);
	cr_expect_eq(g.refused, 1);
	cr_expect_eq(guard_refused_total(), before + 1);
	g.allow_private = true;
	curl_socket_t fd = guard_opensocket(&g, CURLSOCKTYPE_IPCXN, &a.head);
	cr_expect_neq(fd, CURL_SOCKET_BAD);
	close(fd);
	/* An address shorter than its family's is refused, not read past. */
	g.allow_private = false;
	inet_pton(AF_INET, "8.8.8.8", &in->sin_addr);
	a.head.addrlen = 4;
	cr_expect_eq(guard_opensocket(&g, CURLSOCKTYPE_IPCXN, &a.head), CURL_SOCKET_BAD);
}

static const struct {
	const char *url;
	bool allow_private;
	enum url_verdict want;
} urls[] = {
	{"https://example.com/hook", false, URL_OK},
	{"https://example.com:8443/hooks/in?token=abc", false, URL_OK},
	{"https://8.8.8.8/x", false, URL_OK},
	{"https://[2606:4700::1]/x", false, URL_OK},
	{"https://hooks.internal/x", false, URL_OK}, /* a name: checked at connect */
	{"http://example.com/", false, URL_INVALID},
	{"http://example.com/", true, URL_OK},
	{"http://127.0.0.1:8099/x", true, URL_OK},
	{"https://localhost/", true, URL_OK},
	{"https://127.0.0.2/", false, URL_PRIVATE},
	{"https://127.1/", false, URL_PRIVATE},
	{"https://0x7f.1/", false, URL_PRIVATE},
	{"https://0177.0.0.1/", false, URL_PRIVATE},
	{"https://2130706433/", false, URL_PRIVATE},
	{"https://127.0.0.1./", false, URL_PRIVATE},
	{"https://[::1]/", false, URL_PRIVATE},
	{"https://[::]/", false, URL_PRIVATE},
	{"https://[::ffff:127.0.0.1]/", false, URL_PRIVATE},
	{"https://[fe80::1]/", false, URL_PRIVATE},
	{"https://[fe80::1%25eth0]/", false, URL_PRIVATE},
	{"https://0.0.0.0/", false, URL_PRIVATE},
	{"https://10.1.2.3/", false, URL_PRIVATE},
	{"https://169.254.169.254/latest/meta-data/", false, URL_PRIVATE},
	{"https://localhost/", false, URL_PRIVATE},
	{"https://LOCALHOST./", false, URL_PRIVATE},
	{"https://api.localhost/", false, URL_PRIVATE},
	{"https://user:pw@example.com/", false, URL_INVALID},
	{"https://user@example.com/", false, URL_INVALID},
	{"https://example.com/#frag", false, URL_INVALID},
	{"https://example.com:0/", false, URL_INVALID},
	{"https://example.com:65536/", false, URL_INVALID},
	{"https://example.com:99999/", false, URL_INVALID},
	{"not a url", false, URL_INVALID},
	{"example.com/hook", false, URL_INVALID},
	{"ftp://x", false, URL_INVALID},
	{"ftp://x", true, URL_INVALID},
	{"file:///etc/passwd", true, URL_INVALID},
	{"https://", false, URL_INVALID},
	{"https://exa\tmple.com/", false, URL_INVALID},
	{"https://ex\xc3\xa4mple.com/", false, URL_INVALID},
	{"", false, URL_INVALID},
};

Test(url_check, table)
{
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		char why[160] = "unset";
		enum url_verdict v = webhook_url_check(urls[i].url, urls[i].allow_private, why, sizeof why);
		cr_expect_eq(v, urls[i].want, "%s (allow_private %d): %d, want %d (%s)", urls[i].url,
			     urls[i].allow_private, v, urls[i].want, why);
		if (v == URL_OK)
			cr_expect_str_eq(why, "");
		else
			cr_expect(why[0] && !strstr(why, "example") && !strstr(why, "token"), "why: %s", why);
	}
	cr_expect_eq(webhook_url_check(NULL, false, NULL, 0), URL_INVALID);
}

Test(url_check, length_limit)
{
	char *url = malloc(WEBHOOK_URL_MAX + 2);
	size_t head = strlen("https://example.com/");
	memcpy(url, "https://example.com/", head);
	memset(url + head, 'a', WEBHOOK_URL_MAX - head);
	url[WEBHOOK_URL_MAX] = '\0';
	cr_expect_eq(webhook_url_check(url, false, NULL, 0), URL_OK);
	url[WEBHOOK_URL_MAX] = 'a';
	url[WEBHOOK_URL_MAX + 1] = '\0';
	cr_expect_eq(webhook_url_check(url, false, NULL, 0), URL_INVALID);
	free(url);
}

Test(event_line, prints_the_event_in_one_clean_line)
{
	const char *ev = "{\"id\":\"evt_01J\",\"type\":\"case.status_changed\",\"created_at\":\"2026-12-03T08:40:01Z\","
			 "\"case_id\":\"cc_01H\",\"sequence\":3,\"actor\":null,"
			 "\"data\":{\"id\":\"cc_01H\",\"previous_status\":\"submitted\",\"status\":\"open\","
			 "\"stage\":null,\"balance\":{\"amount\":1}}}\n";
	char *line = webhook_event_line(ev, strlen(ev));
	cr_assert_not_null(line);
	cr_expect_str_eq(line, "2026-12-03T08:40:01Z evt_01J case.status_changed case=cc_01H seq=3 "
			       "previous_status=submitted status=open");
	free(line);

	const char *pay = "{\"id\":\"evt_2\",\"type\":\"case.payment_received\",\"created_at\":\"x\",\"case_id\":"
			  "\"cc_1\",\"sequence\":4,\"data\":{\"source\":\"agency\",\"amount\":25000,\"status\":"
			  "\"open\\u001b[31m bad\"}}";
	line = webhook_event_line(pay, strlen(pay));
	cr_assert_not_null(line);
	cr_expect_str_eq(line, "x evt_2 case.payment_received case=cc_1 seq=4 status=open?[31m?bad source=agency "
			       "amount=25000");
	free(line);

	const char *st = "{\"id\":\"evt_3\",\"type\":\"settlement.created\",\"created_at\":\"t\",\"case_id\":null,"
			 "\"sequence\":1,\"data\":{\"id\":\"st_9\",\"amount\":100}}";
	line = webhook_event_line(st, strlen(st));
	cr_assert_not_null(line);
	cr_expect_str_eq(line, "t evt_3 settlement.created settlement=st_9 seq=1 amount=100");
	free(line);
}

Test(event_line, refuses_what_is_not_one_object)
{
	const char *bad[] = {"", "null", "[1]", "\"x\"", "{", "{\"a\":1} {}", "not json", "{\"a\":1}x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_null(webhook_event_line(bad[i], strlen(bad[i])), "body %zu", i);
	cr_expect_null(webhook_event_line("{}\0{}", 5));
	char *line = webhook_event_line("{}", 2);
	cr_assert_not_null(line);
	cr_expect(strstr(line, " - -") != NULL, "%s", line);
	free(line);
}

/* ---- the retry schedule (webhooks/dispatch.h) ---- */

Test(schedule, parses_the_design_default_and_units)
{
	struct webhook_options o = {0};
	cr_assert(webhook_schedule_parse("5s,5m,30m,2h,5h,10h,10h", &o));
	cr_assert_eq(o.nschedule, 7);
	const int64_t want[] = {5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000};
	for (int i = 0; i < 7; i++)
		cr_expect_eq(o.schedule_ms[i], want[i], "wait %d", i);
	cr_assert(webhook_schedule_parse("250ms,1d", &o));
	cr_expect(o.nschedule == 2 && o.schedule_ms[0] == 250 && o.schedule_ms[1] == 86400000);
	const char *bad[] = {"", ",", "5s,", "5", "5x", "-1s", "s", "5s,,5s", "31d", "1s 2s",
			     "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_not(webhook_schedule_parse(bad[i], &o), "\"%s\" accepted", bad[i]);
}

Test(schedule, jitter_retry_after_and_the_end)
{
	struct webhook_options o = {0};
	cr_assert(webhook_schedule_parse("10s,1m", &o));
	cr_expect_eq(webhook_next_attempt(&o, 1, 1000, -1, 0.5), 11000);
	cr_expect_eq(webhook_next_attempt(&o, 1, 1000, -1, 0.0), 10000);  /* -10% */
	cr_expect_eq(webhook_next_attempt(&o, 1, 1000, -1, 1.0), 12000);  /* +10% */
	cr_expect_eq(webhook_next_attempt(&o, 2, 0, -1, 0.5), 60000);
	cr_expect_eq(webhook_next_attempt(&o, 3, 0, -1, 0.5), -1, "the schedule is spent: failed");
	cr_expect_eq(webhook_next_attempt(&o, 1, 0, 30, 0.5), 30000, "Retry-After is a floor");
	cr_expect_eq(webhook_next_attempt(&o, 1, 0, 2, 0.5), 10000, "a shorter one changes nothing");
	cr_expect_eq(webhook_next_attempt(&o, 1, 0, 1000000000, 0.5), WEBHOOK_RETRY_AFTER_CAP_MS);
}
