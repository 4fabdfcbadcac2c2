/* SPDX-License-Identifier: MIT */
/* GET /problems/{code} and GET /problems: every problem `type` resolves to a
 * short page (title, status, when it happens, what to do) made from the
 * registry (server/problem.h). text/html by default; application/json when
 * the Accept header prefers it to text/html. Public. */
#include "handlers/handlers.h"
#include "lib/accept.h"
#include "lib/jsonw.h"
#include "server/problem.h"

static bool wants_json(const struct request *req)
{
	return accept_quality(req->accept, "application/json") > accept_quality(req->accept, "text/html");
}

/* Text as HTML character data or an attribute value. */
static void html_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, *s);
		}
	}
}

static void html_open(struct buf *b, const char *title)
{
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	html_text(b, title);
	buf_puts(b, "</title>\n<style>body{font-family:sans-serif;max-width:44em;margin:2em auto;padding:0 1em;"
		    "line-height:1.5}code{background:#eee;padding:0 .2em}</style>\n</head>\n<body>\n");
}

static void html_close(struct buf *b) { buf_puts(b, "</body>\n</html>\n"); }

/* The members of one code: type, code, title, status, when_it_happens, what_to_do. */
static void json_members(struct buf *b, enum problem_code c)
{
	buf_puts(b, "{\"type\":\"/problems/");
	buf_puts(b, problem_name(c)); /* [a-z_]: nothing to escape */
	buf_putc(b, '"');
	jw_kstr(b, false, "code", problem_name(c));
	jw_kstr(b, false, "title", problem_title(c));
	jw_kint(b, false, "status", problem_status(c));
	jw_kstr(b, false, "when_it_happens", problem_when(c));
	jw_kstr(b, false, "what_to_do", problem_todo(c));
	buf_putc(b, '}');
}

static void html_page(struct buf *b, enum problem_code c)
{
	html_open(b, problem_title(c));
	buf_puts(b, "<h1>");
	html_text(b, problem_title(c));
	buf_printf(b, "</h1>\n<p>HTTP status <strong>%d</strong>, code <code>%s</code>, type "
		      "<code>/problems/%s</code></p>\n<h2>When it happens</h2>\n<p>",
		   problem_status(c), problem_name(c), problem_name(c));
	html_text(b, problem_when(c));
	buf_puts(b, "</p>\n<h2>What to do</h2>\n<p>");
	html_text(b, problem_todo(c));
	buf_puts(b, "</p>\n<p><a href=\"/problems\">Every problem type</a></p>\n");
	html_close(b);
}

enum handler_result handle_problem_get(const struct request *req, struct reply *out)
{
	int c = req->path_id ? problem_find(req->path_id) : -1;
	if (c < 0)
		return reply_problem(out, PROBLEM_NOT_FOUND, "no such problem type");
	out->vary = "Accept"; /* HTML or JSON by it */
	if (wants_json(req)) {
		json_members(&out->body, (enum problem_code)c);
		return reply_json(out, 200);
	}
	html_page(&out->body, (enum problem_code)c);
	out->status = 200;
	out->content_type = "text/html; charset=utf-8";
	return HANDLER_ANSWERED;
}

enum handler_result handle_problems_list(const struct request *req, struct reply *out)
{
	struct buf *b = &out->body;
	out->vary = "Accept"; /* HTML or JSON by it */
	if (wants_json(req)) {
		buf_puts(b, "{\"data\":[");
		for (int c = 0; c < PROBLEM__COUNT; c++) {
			if (c)
				buf_putc(b, ',');
			json_members(b, (enum problem_code)c);
		}
		buf_puts(b, "]}");
		return reply_json(out, 200);
	}
	html_open(b, "Problem types");
	buf_puts(b, "<h1>Problem types</h1>\n<p>Every error of this service is an RFC 9457 problem document "
		    "whose <code>type</code> is one of these.</p>\n<ul>\n");
	for (int c = 0; c < PROBLEM__COUNT; c++) {
		const char *name = problem_name((enum problem_code)c);
		buf_printf(b, "<li><a href=\"/problems/%s\"><code>%s</code></a> (%d): ", name, name,
			   problem_status((enum problem_code)c));
		html_text(b, problem_title((enum problem_code)c));
		buf_puts(b, "</li>\n");
	}
	buf_puts(b, "</ul>\n");
	html_close(b);
	out->status = 200;
	out->content_type = "text/html; charset=utf-8";
	return HANDLER_ANSWERED;
}
