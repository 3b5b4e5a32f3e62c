#include "watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "loop.h"
#include "owners.h"
#include "util.h"

/* Plain ANSI/xterm sequences: every terminal emulator in use knows them. */
#define ALT_ON "\x1b[?1049h\x1b[?25l"
#define ALT_OFF "\x1b[?25h\x1b[?1049l"
#define HOME "\x1b[H"
#define CLEAR_EOL "\x1b[K"
#define CLEAR_EOS "\x1b[J"
#define GREEN "\x1b[32m"
#define RED "\x1b[31m"
#define RESET "\x1b[0m"

struct watch {
	struct watch_opts o;
	uint64_t *keys;            /* the rows noted this frame, in order */
	size_t nkeys, capkeys;
	bool oom;
	struct u64map cur_inodes;  /* inodes of this frame's rows */
	struct u64map known;       /* inodes the owners map was scanned with */
	bool new_inode;            /* a row whose inode the map has not seen */
	struct owners *owners;
	struct u64map prev;        /* key -> the previous frame's row line (owned) */
	bool have_prev;
	struct buf screen;         /* the last frame, decorated, for a redraw */
	char status[160];
	bool saved_tty;
	struct termios saved;
};

static uint64_t row_key(const struct sock *s)
{
	if (s->cookie)
		return s->cookie & ~(1ull << 63);
	if (s->inode)
		return s->inode | (1ull << 63);
	/* /proc gives TIME_WAIT sockets neither: their addresses must do. */
	uint64_t h = util_mix64(((uint64_t)s->proto << 8 | s->family) << 32 |
				(uint64_t)s->local.port << 16 | s->peer.port);
	for (int i = 0; i < 16; i += 8) {
		uint64_t a, b;
		memcpy(&a, s->local.addr + i, 8);
		memcpy(&b, s->peer.addr + i, 8);
		h = util_mix64(h ^ a) ^ util_mix64(b + (uint64_t)i);
	}
	return (h | (1ull << 63)) & ~1ull;
}

void watch_note_row(struct watch *w, const struct sock *s)
{
	if (w->nkeys == w->capkeys) {
		size_t cap = w->capkeys ? 2 * w->capkeys : 256;
		uint64_t *k = realloc(w->keys, cap * sizeof(*k));
		if (!k) {
			w->oom = true;
			return;
		}
		w->keys = k;
		w->capkeys = cap;
	}
	w->keys[w->nkeys++] = row_key(s);
	if (!s->inode)
		return;
	if (!u64map_has(&w->known, s->inode))
		w->new_inode = true;
	void **slot;
	bool fresh;
	if (u64map_insert(&w->cur_inodes, s->inode, &slot, &fresh) < 0)
		w->oom = true;
}

bool watch_has_owners(const struct watch *w)
{
	return w->owners != NULL;
}

/* The map now answers for every inode of this frame, and only those count. */
static void frame_scanned(struct watch *w)
{
	struct u64map t = w->known;
	w->known = w->cur_inodes;
	w->cur_inodes = t;
	u64map_clear(&w->cur_inodes);
}

void watch_adopt_owners(struct watch *w, struct owners *o)
{
	owners_destroy(w->owners);
	w->owners = o;
	if (w->oom) {
		/* Some row's inode went unnoted: the next frame scans again. */
		owners_destroy(w->owners);
		w->owners = NULL;
		return;
	}
	frame_scanned(w);
}

int watch_owners(struct watch *w, const struct owners **out)
{
	/* Every row's socket was there at the last scan: its holders are known. */
	if (w->owners && !w->new_inode && !w->oom) {
		*out = w->owners;
		return 0;
	}
	owners_destroy(w->owners);
	w->owners = NULL;
	int rc = owners_create(&w->owners);
	if (rc == 0)
		rc = owners_set_backend(w->owners, w->o.owners_via ? w->o.owners_via : "auto");
	if (rc == 0)
		rc = owners_scan(w->owners, w->o.proc_root ? w->o.proc_root : "/proc");
	if (rc < 0) {
		owners_destroy(w->owners);
		w->owners = NULL;
		return rc;
	}
	frame_scanned(w);
	*out = w->owners;
	return 0;
}

static void free_prev(struct u64map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			free(m->vals[i]);
	u64map_finish(m);
}

/* The terminal's size, or 80x24 when it will not say. */
static void term_size(int fd, unsigned *cols, unsigned *rows)
{
	struct winsize ws;
	*cols = 80;
	*rows = 24;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* Appends line (len bytes) cut to cols terminal cells (UTF-8 aware). */
static void add_cut(struct buf *b, const char *line, size_t len, unsigned cols)
{
	size_t i = 0;
	unsigned cells = 0;
	for (; i < len; i++) {
		bool lead = ((unsigned char)line[i] & 0xc0) != 0x80;
		if (lead && cells++ == cols)
			break;
	}
	buf_add(b, line, i);
}

/* Draws the decorated frame in w->screen in place, cut to the terminal. */
static void redraw(struct watch *w)
{
	unsigned cols, rows;
	term_size(STDOUT_FILENO, &cols, &rows);
	struct buf b = BUF_INIT;
	buf_adds(&b, HOME);
	add_cut(&b, w->status, strlen(w->status), cols);
	buf_adds(&b, CLEAR_EOL "\n");
	const char *p = w->screen.p ? w->screen.p : "";
	for (unsigned n = 1; *p && n < rows; n++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		/* A mark and its colour: "+ " or "- " first, coloured whole. */
		const char *colour = !w->o.color ? NULL : len && p[0] == '+' ? GREEN
				     : len && p[0] == '-' ? RED : NULL;
		if (colour)
			buf_adds(&b, colour);
		add_cut(&b, p, len, cols);
		if (colour)
			buf_adds(&b, RESET);
		buf_adds(&b, CLEAR_EOL);
		if (n + 1 < rows)
			buf_addc(&b, '\n');
		p = nl ? nl + 1 : p + len;
	}
	buf_adds(&b, CLEAR_EOS);
	(void)buf_flush(&b, w->o.out);
	fflush(w->o.out);
	buf_finish(&b);
}

/*
 * Decorates a frame's text for the screen: a first column with + for a
 * row new since the last frame, and the rows that went, once more, with
 * -. The rows' lines are kept for the next frame. Returns how many came
 * and went.
 */
static void decorate(struct watch *w, const char *text, size_t len, uint64_t *came,
		     uint64_t *went)
{
	buf_reset(&w->screen);
	*came = *went = 0;
	size_t nlines = 0;
	for (size_t i = 0; i < len; i++)
		nlines += text[i] == '\n';
	size_t first_row = w->o.header ? 1 : 0;
	bool marks = w->o.marks && !w->oom && nlines == first_row + w->nkeys;
	struct u64map next = U64MAP_INIT;
	const char *p = text, *end = text + len;
	for (size_t n = 0; p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (marks && n >= first_row) {
			uint64_t key = w->keys[n - first_row];
			bool is_new = w->have_prev && !u64map_get(&w->prev, key);
			*came += is_new;
			buf_adds(&w->screen, is_new ? "+ " : "  ");
			void **slot;
			bool fresh;
			if (u64map_insert(&next, key, &slot, &fresh) == 0 && fresh)
				*slot = strndup(p, l);
		} else if (marks) {
			buf_adds(&w->screen, "  ");
		}
		buf_add(&w->screen, p, l);
		buf_addc(&w->screen, '\n');
		p += l + 1;
	}
	if (marks) {
		for (size_t i = 0; i < w->prev.cap; i++) {
			if (!w->prev.keys[i] || u64map_get(&next, w->prev.keys[i] - 1))
				continue;
			(*went)++;
			buf_adds(&w->screen, "- ");
			buf_adds(&w->screen, w->prev.vals[i] ? w->prev.vals[i] : "");
			buf_addc(&w->screen, '\n');
		}
	}
	free_prev(&w->prev);
	w->prev = next;
	w->have_prev = marks;
}

static int term_enter(struct watch *w)
{
	if (tcgetattr(w->o.in_fd, &w->saved) == 0) {
		struct termios raw = w->saved;
		/* Keys one by one and unechoed; Ctrl-C still raises SIGINT. */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(w->o.in_fd, TCSANOW, &raw) == 0)
			w->saved_tty = true;
	}
	fputs(ALT_ON, w->o.out);
	return fflush(w->o.out) == 0 ? 0 : -errno;
}

static void term_leave(struct watch *w)
{
	fputs(ALT_OFF, w->o.out);
	fflush(w->o.out);
	if (w->saved_tty)
		(void)tcsetattr(w->o.in_fd, TCSANOW, &w->saved);
}

/* Whether the user pressed q. */
static bool quit_key(int fd)
{
	char c[64];
	ssize_t n = read(fd, c, sizeof(c));
	for (ssize_t i = 0; i < n; i++)
		if (c[i] == 'q' || c[i] == 'Q')
			return true;
	return false;
}

/* Draws one frame and shows it. Returns the frame's status, or 1 with *why. */
static int one_frame(struct watch *w, watch_frame_fn frame, void *arg, FILE *msg, int *why)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		*why = -ENOMEM;
		return 1;
	}
	w->nkeys = 0;
	w->oom = false;
	w->new_inode = false;
	u64map_clear(&w->cur_inodes);
	int64_t now = clock_real_ms();
	int status = frame(arg, w, f, msg);
	if (fclose(f) != 0 && status == 0) {
		*why = -ENOMEM;
		status = 1;
	}
	if (status == 0) {
		char when[CLOCK_RFC3339_SIZE];
		clock_rfc3339(when, now, false);
		if (w->o.tty) {
			uint64_t came, went;
			decorate(w, text ? text : "", len, &came, &went);
			unsigned long long sec = w->o.interval_ms / 1000;
			unsigned long long tenth = w->o.interval_ms % 1000 / 100;
			/* Counts (-s, --count-by) have groups, not rows to count or mark. */
			if (w->o.marks)
				snprintf(w->status, sizeof(w->status),
					 "sockstat --watch: every %llu.%01llus  %s  %zu sockets  +%llu -%llu  "
					 "(q quits)", sec, tenth, when, w->nkeys,
					 (unsigned long long)came, (unsigned long long)went);
			else
				snprintf(w->status, sizeof(w->status),
					 "sockstat --watch: every %llu.%01llus  %s  (q quits)", sec, tenth,
					 when);
			redraw(w);
		} else {
			fprintf(w->o.out, "# %s\n", when);
			fwrite(text ? text : "", 1, len, w->o.out);
			fputc('\n', w->o.out);
		}
		if (fflush(w->o.out) != 0 || ferror(w->o.out)) {
			*why = errno ? -errno : -EIO;
			status = 1;
		}
	}
	free(text);
	return status;
}

/* Shows what frames said for the user, once the screen is the user's again. */
static void show_messages(char *text, size_t len)
{
	if (text && len)
		fwrite(text, 1, len, stderr);
}

static void watch_free(struct watch *w)
{
	free(w->keys);
	u64map_finish(&w->cur_inodes);
	u64map_finish(&w->known);
	free_prev(&w->prev);
	owners_destroy(w->owners);
	buf_finish(&w->screen);
}

/* Frames until a key, a signal or a failure; the terminal is the caller's. */
static int frames(struct watch *w, watch_frame_fn frame, void *arg, FILE *msg, int *why)
{
	int64_t next = clock_mono_ms();
	for (;;) {
		int status = one_frame(w, frame, arg, msg, why);
		if (status != 0)
			return status;
		next += (int64_t)w->o.interval_ms;
		for (;;) {
			unsigned sig = loop_take_signals();
			if (sig & LOOP_STOP)
				return 0;
			if ((sig & LOOP_RESIZE) && w->o.tty)
				redraw(w);
			int64_t left = next - clock_mono_ms();
			if (left <= 0)
				break;
			int fd = w->o.tty ? w->o.in_fd : -1;
			int rc = loop_wait(&fd, fd >= 0 ? 1 : 0, left);
			if (rc < 0) {
				*why = rc;
				return 1;
			}
			if ((rc & 1) && quit_key(w->o.in_fd))
				return 0;
		}
		if (next < clock_mono_ms())
			next = clock_mono_ms();
	}
}

int watch_run(const struct watch_opts *o, watch_frame_fn frame, void *arg, int *why)
{
	*why = 0;
	struct watch w = {.o = *o};
	w.cur_inodes = (struct u64map)U64SET_INIT;
	w.known = (struct u64map)U64SET_INIT;
	w.prev = (struct u64map)U64MAP_INIT;
	char *msgs = NULL;
	size_t msglen = 0;
	/* On a terminal, what frames say waits until the screen is restored. */
	FILE *msg = o->tty ? open_memstream(&msgs, &msglen) : stderr;
	if (!msg) {
		*why = -ENOMEM;
		return 1;
	}
	int status = 0;
	if (o->tty && (*why = term_enter(&w)) < 0)
		status = 1;
	if (status == 0)
		status = frames(&w, frame, arg, msg, why);
	if (o->tty) {
		term_leave(&w);
		fclose(msg);
		show_messages(msgs, msglen);
		free(msgs);
	}
	watch_free(&w);
	return status;
}
