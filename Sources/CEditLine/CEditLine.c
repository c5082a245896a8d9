#include "CEditLine.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>
#include <wchar.h>

/* ---- Locale and terminals ---- */

void ceditline_setup_locale(void) {
    const char *name = setlocale(LC_CTYPE, "");
    if (name == NULL || strcmp(name, "C") == 0 || strcmp(name, "POSIX") == 0) {
        setlocale(LC_CTYPE, "C.UTF-8");
    }
}

void ceditline_print(const char *text) {
    fputs(text, stdout);
    fflush(stdout);
}

void ceditline_print_error(const char *text) {
    fputs(text, stderr);
    fflush(stderr);
}

/* ---- The editor ---- */

EditLine *ceditline_init(const char *program) {
    return el_init(program, stdin, stdout, stderr);
}

const char *ceditline_gets(EditLine *el, int *count, int *error) {
    errno = 0;
    const char *line = el_gets(el, count);
    *error = errno;
    return line;
}

int ceditline_set_client_data(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

void *ceditline_client_data(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) return NULL;
    return data;
}

int ceditline_set_prompt(EditLine *el, ceditline_prompt_fn fn, char escape) {
    return el_set(el, EL_PROMPT_ESC, fn, escape);
}

int ceditline_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}

int ceditline_set_signal(EditLine *el, int on) {
    return el_set(el, EL_SIGNAL, on);
}

int ceditline_set_history(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h); /* the function, then its History */
}

int ceditline_columns(EditLine *el) {
    int columns = 0;
    if (el_get(el, EL_GETTC, "co", &columns) != 0 || columns <= 0) return 80;
    return columns;
}

int ceditline_add_function(EditLine *el, const char *name, const char *help,
                           ceditline_command_fn fn) {
    return el_set(el, EL_ADDFN, name, help, fn);
}

int ceditline_bind(EditLine *el, const char *key, const char *command) {
    return el_set(el, EL_BIND, key, command, (const char *)NULL);
}

int ceditline_source_editrc(EditLine *el) { return el_source(el, NULL); }

/* ---- History ---- */

int ceditline_history_set_size(History *h, int size) {
    HistEvent event;
    return history(h, &event, H_SETSIZE, size);
}

int ceditline_history_set_unique(History *h, int on) {
    HistEvent event;
    return history(h, &event, H_SETUNIQUE, on);
}

int ceditline_history_enter(History *h, const char *line) {
    HistEvent event;
    return history(h, &event, H_ENTER, line);
}

int ceditline_history_load(History *h, const char *path) {
    HistEvent event;
    return history(h, &event, H_LOAD, path);
}

int ceditline_history_save(History *h, const char *path) {
    HistEvent event;
    return history(h, &event, H_SAVE, path);
}

int ceditline_history_append_newest(History *h, const char *path) {
    /* Opened for appending, the stream starts at the end of the file, and
       H_NSAVE_FP writes the "_HiStOrY_V2_" first line only at offset 0. */
    FILE *file = fopen(path, "a");
    if (file == NULL) return -1;
    HistEvent event;
    /* H_NSAVE_FP writes the n + 1 newest entries (libedit counts from the
       newest and stops one further on), so n = 0 writes the newest alone. */
    int result = history(h, &event, H_NSAVE_FP, (size_t)0, file);
    if (fclose(file) != 0) result = -1;
    return result < 0 ? -1 : 0;
}

const char *ceditline_history_newest(History *h) {
    HistEvent event;
    return history(h, &event, H_FIRST) < 0 ? NULL : event.str;
}

/* ---- Ctrl-C ---- */

/* The only mutable global state: written by the signal handler. */
static volatile sig_atomic_t interrupt_flag = 0;
/* How many Ctrl-Cs arrived in all: never cleared, so a script can tell that one came
   during a statement even when the statement took (cleared) the flag. */
static volatile sig_atomic_t interrupt_count = 0;
static int interrupt_handler_installed = 0;

static void on_interrupt(int signo) {
    (void)signo;
    interrupt_flag = 1;
    interrupt_count = interrupt_count + 1;
}

void ceditline_install_interrupt_handler(void) {
    if (interrupt_handler_installed) return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; /* no SA_RESTART: a blocked read fails with EINTR */
    if (sigaction(SIGINT, &action, NULL) == 0) interrupt_handler_installed = 1;
}

/*
 * Reading keys. libedit's own reader blocks in read(); a Ctrl-C that arrives after one
 * key is handled but before the next read starts would set the flag and leave the read
 * blocked. This reader checks the flag with SIGINT blocked and then waits in pselect,
 * which unblocks SIGINT atomically: a Ctrl-C either is seen by the check or interrupts
 * the wait, never falls between them.
 */
static int read_byte(int fd, unsigned char *byte) {
    sigset_t block, previous;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    for (;;) {
        sigprocmask(SIG_BLOCK, &block, &previous);
        if (interrupt_flag) {
            sigprocmask(SIG_SETMASK, &previous, NULL);
            errno = EINTR;
            return -1;
        }
        fd_set ready;
        FD_ZERO(&ready);
        FD_SET(fd, &ready);
        /* The kernel may hand a Ctrl-C to another thread (OpenBLAS starts its workers
           before main, with SIGINT unblocked): its handler sets the flag but does not wake
           this wait, so the wait ends every tenth of a second to look at the flag again. */
        struct timespec tick = {0, 100000000};
        int waited = pselect(fd + 1, &ready, NULL, NULL, &tick, &previous);
        int saved = errno;
        sigprocmask(SIG_SETMASK, &previous, NULL);
        if (waited < 0) {
            errno = saved;
            return -1;
        }
        if (waited == 0) continue;
        ssize_t count = read(fd, byte, 1);
        return count < 0 ? -1 : (int)count;
    }
}

/* One character, decoded from the locale's multibyte encoding (UTF-8): 1, 0 at the end, -1 on error. */
static int read_character(EditLine *el, wchar_t *character) {
    (void)el;
    unsigned char bytes[MB_LEN_MAX];
    size_t length = 0;
    for (;;) {
        int status = read_byte(STDIN_FILENO, &bytes[length]);
        if (status <= 0) {
            *character = L'\0';
            return status;
        }
        length += 1;
        mbstate_t state;
        memset(&state, 0, sizeof state);
        wchar_t decoded;
        size_t used = mbrtowc(&decoded, (const char *)bytes, length, &state);
        if (used == (size_t)-2 && length < MB_LEN_MAX) continue; /* more bytes to come */
        /* An invalid sequence reads as its first byte, as libedit's reader does. */
        *character = (used == (size_t)-1 || used == (size_t)-2) ? (wchar_t)bytes[0] : decoded;
        return 1;
    }
}

int ceditline_set_reader(EditLine *el) {
    return el_set(el, EL_GETCFN, read_character);
}

int ceditline_interrupt_count(void) {
    return (int)interrupt_count;
}

int ceditline_take_interrupt(void) {
    /* An atomic exchange, so that a Ctrl-C arriving meanwhile is not lost. */
    return __atomic_exchange_n(&interrupt_flag, 0, __ATOMIC_SEQ_CST) ? 1 : 0;
}
