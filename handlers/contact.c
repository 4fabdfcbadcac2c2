/* SPDX-License-Identifier: MIT */
#include "handlers/contact.h"

#include <stddef.h>
#include <string.h>

/* ISO 639-1, every code, two letters each (from Debian's iso-codes). */
static const char iso639_1[] =
	"aaabaeafakamanarasavayazbabebgbhbibmbnbobrbscacechcocrcscucvcydadedvdzeeeleneoeseteufafffifjfofr"
	"fygagdglgngugvhahehihohrhthuhyhziaidieigiiikioisitiujajvkakgkikjkkklkmknkokrkskukvkwkylalblglilnlo"
	"ltlulvmgmhmimkmlmnmrmsmtmynanbndnengnlnnnonrnvnyocojomorospapiplpsptqurmrnrorurwsascsdsesgsiskslsm"
	"snsosqsrssstsusvswtatetgthtitktltntotrtstttwtyugukuruzvevivowawoxhyiyozazhzu";

bool contact_email_ok(const char *s)
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

bool contact_language_ok(const char *s, char out[3])
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
