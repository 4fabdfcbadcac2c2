/* SPDX-License-Identifier: MIT */
#include "server/conn_deadline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/log.h"
#include "lib/wake.h"

/* One per open connection, from NOTIFY_STARTED to NOTIFY_CLOSED. */
struct watched {
	struct watched *prev, *next;
	MHD_socket fd;
	atomic_llong waiting_since_ms; /* -1 while a request is in the handler */
	bool cut;
};

struct conn_deadline {
	struct wake w;        /* its lock guards the list and is held while shutting a socket down */
	struct watched *head;
	long long deadline_ms;
	pthread_t thread;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libmicrohttpd sends NOTIFY_CLOSED before it closes the socket, and this
 * list loses the connection under the same lock the watchdog holds while it
 * calls shutdown(): a descriptor shut down here is still this connection's,
 * never one the kernel has handed to a newer connection. */
static void *watchdog(void *arg)
{
	struct conn_deadline *d = arg;
	pthread_mutex_lock(&d->w.lock);
	while (!d->w.stop) {
		long long now = now_ms();
		int cut = 0;
		for (struct watched *w = d->head; w; w = w->next) {
			long long since = atomic_load(&w->waiting_since_ms);
			if (!w->cut && since >= 0 && now - since > d->deadline_ms) {
				/* The event loop then reads EOF and closes it. */
				shutdown(w->fd, SHUT_RDWR);
				w->cut = true;
				cut++;
			}
		}
		if (cut > 0) {
			char n[16];
			snprintf(n, sizeof n, "%d", cut);
			log_write(LOG_WARN, "connections cut: request head too slow", "count", n, NULL);
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&d->w.cond, &d->w.lock, &until);
	}
	pthread_mutex_unlock(&d->w.lock);
	return NULL;
}

struct conn_deadline *conn_deadline_start(int deadline_s)
{
	struct conn_deadline *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->deadline_ms = (long long)deadline_s * 1000;
	if (!wake_init(&d->w)) {
		free(d);
		return NULL;
	}
	if (pthread_create(&d->thread, NULL, watchdog, d) != 0) {
		wake_destroy(&d->w);
		free(d);
		return NULL;
	}
	return d;
}

void conn_deadline_stop(struct conn_deadline *d)
{
	if (!d)
		return;
	wake_stop(&d->w);
	pthread_join(d->thread, NULL);
	while (d->head) { /* none after MHD_stop_daemon; defensive */
		struct watched *w = d->head;
		d->head = w->next;
		free(w);
	}
	wake_destroy(&d->w);
	free(d);
}

void conn_deadline_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct conn_deadline *d = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct watched *w = calloc(1, sizeof *w);
		if (!w || !info) {
			free(w); /* unwatched: only the idle timeout applies */
			*socket_context = NULL;
			return;
		}
		w->fd = info->connect_fd;
		atomic_init(&w->waiting_since_ms, now_ms());
		pthread_mutex_lock(&d->w.lock);
		w->next = d->head;
		if (d->head)
			d->head->prev = w;
		d->head = w;
		pthread_mutex_unlock(&d->w.lock);
		*socket_context = w;
		return;
	}
	struct watched *w = *socket_context; /* MHD_CONNECTION_NOTIFY_CLOSED */
	if (!w)
		return;
	pthread_mutex_lock(&d->w.lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		d->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&d->w.lock);
	free(w);
	*socket_context = NULL;
}

static struct watched *watched_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

void conn_deadline_in_handler(struct MHD_Connection *conn)
{
	struct watched *w = watched_of(conn);
	if (w)
		atomic_store(&w->waiting_since_ms, -1);
}

void conn_deadline_request_done(struct MHD_Connection *conn)
{
	struct watched *w = watched_of(conn);
	if (w)
		atomic_store(&w->waiting_since_ms, now_ms());
}
