/*
 * Test broker: a librdkafka mock cluster (real Kafka wire protocol, group
 * coordination, fault injection) driven over stdin/stdout.
 *
 * Usage: mock-broker [--brokers N] [--topic NAME:PARTITIONS]...
 * Prints "BOOTSTRAP host:port,..." once ready, then reads one command per line
 * and answers each with exactly one line, "OK [detail]" or "ERR reason":
 *   create-topic NAME PARTITIONS        partition counts are fixed at creation
 *   broker-down ID | broker-up ID       ID -1 means every broker
 *   rtt ID MS                           round-trip delay for a broker
 *   push-errors APIKEY ERR [ERR...]     the next requests of APIKEY fail in order
 *   push-broker-errors ID APIKEY ERR:RTT [ERR:RTT...]
 *   clear-errors APIKEY
 *   set-leader TOPIC PARTITION ID
 *   coordinator group|transaction KEY ID
 *   ping
 *   quit
 * End of stdin also stops it, so a parent that dies takes the broker with it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_ARGS 64

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
        (void)sig;
        stopping = 1;
}

static int parse_int(const char *s, long *out) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end != '\0')
                return -1;
        *out = v;
        return 0;
}

static void reply(rd_kafka_resp_err_t err) {
        if (err)
                printf("ERR %s\n", rd_kafka_err2str(err));
        else
                printf("OK\n");
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec_name,
                        long partitions) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(mc, spec_name, (int)partitions, 1);
        if (err) {
                fprintf(stderr, "create-topic %s: %s\n", spec_name,
                        rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

static void handle(rd_kafka_mock_cluster_t *mc, int argc, char **argv) {
        long a, b, c;
        const char *cmd = argv[0];

        if (!strcmp(cmd, "ping")) {
                printf("OK pong\n");
        } else if (!strcmp(cmd, "create-topic") && argc == 3 &&
                   !parse_int(argv[2], &a) && a > 0) {
                reply(rd_kafka_mock_topic_create(mc, argv[1], (int)a, 1));
        } else if (!strcmp(cmd, "broker-down") && argc == 2 &&
                   !parse_int(argv[1], &a)) {
                reply(rd_kafka_mock_broker_set_down(mc, (int32_t)a));
        } else if (!strcmp(cmd, "broker-up") && argc == 2 &&
                   !parse_int(argv[1], &a)) {
                reply(rd_kafka_mock_broker_set_up(mc, (int32_t)a));
        } else if (!strcmp(cmd, "rtt") && argc == 3 &&
                   !parse_int(argv[1], &a) && !parse_int(argv[2], &b)) {
                reply(rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b));
        } else if (!strcmp(cmd, "push-errors") && argc >= 3 &&
                   !parse_int(argv[1], &a)) {
                rd_kafka_resp_err_t errs[MAX_ARGS];
                int n = 0;
                for (int i = 2; i < argc; i++, n++) {
                        if (parse_int(argv[i], &b)) {
                                printf("ERR bad error code %s\n", argv[i]);
                                return;
                        }
                        errs[n] = (rd_kafka_resp_err_t)b;
                }
                rd_kafka_mock_push_request_errors_array(mc, (int16_t)a,
                                                        (size_t)n, errs);
                printf("OK\n");
        } else if (!strcmp(cmd, "push-broker-errors") && argc >= 4 &&
                   !parse_int(argv[1], &a) && !parse_int(argv[2], &b)) {
                /* The C API is variadic; push one (err, rtt) tuple at a time,
                 * which keeps the same order on the broker's error stack. */
                for (int i = 3; i < argc; i++) {
                        long err = 0, rtt = 0;
                        char *colon = strchr(argv[i], ':');
                        if (colon)
                                *colon = '\0';
                        if (parse_int(argv[i], &err) ||
                            (colon && parse_int(colon + 1, &rtt))) {
                                printf("ERR bad ERR:RTT %s\n", argv[i]);
                                return;
                        }
                        rd_kafka_resp_err_t r =
                            rd_kafka_mock_broker_push_request_error_rtts(
                                mc, (int32_t)a, (int16_t)b, 1,
                                (rd_kafka_resp_err_t)err, (int)rtt);
                        if (r) {
                                reply(r);
                                return;
                        }
                }
                printf("OK\n");
        } else if (!strcmp(cmd, "clear-errors") && argc == 2 &&
                   !parse_int(argv[1], &a)) {
                rd_kafka_mock_clear_request_errors(mc, (int16_t)a);
                printf("OK\n");
        } else if (!strcmp(cmd, "set-leader") && argc == 4 &&
                   !parse_int(argv[2], &b) && !parse_int(argv[3], &c)) {
                reply(rd_kafka_mock_partition_set_leader(
                    mc, argv[1], (int32_t)b, (int32_t)c));
        } else if (!strcmp(cmd, "coordinator") && argc == 4 &&
                   !parse_int(argv[3], &a)) {
                reply(rd_kafka_mock_coordinator_set(mc, argv[1], argv[2],
                                                    (int32_t)a));
        } else {
                printf("ERR unknown or malformed command: %s\n", cmd);
        }
}

int main(int argc, char **argv) {
        long brokers = 3;
        char errstr[512];

        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        signal(SIGPIPE, SIG_IGN);
        setvbuf(stdout, NULL, _IOLBF, 0);

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
                        if (parse_int(argv[++i], &brokers) || brokers < 1) {
                                fprintf(stderr, "--brokers takes a positive "
                                                "integer\n");
                                return 2;
                        }
                }
        }

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
        rd_kafka_t *rk =
            rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
        if (!mc) {
                fprintf(stderr, "could not create the mock cluster\n");
                return 1;
        }

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
                        char *spec = argv[++i];
                        char *colon = strrchr(spec, ':');
                        long parts = 1;
                        if (colon) {
                                *colon = '\0';
                                if (parse_int(colon + 1, &parts) || parts < 1) {
                                        fprintf(stderr, "--topic NAME:PARTITIONS\n");
                                        return 2;
                                }
                        }
                        if (create_topic(mc, spec, parts))
                                return 1;
                }
        }

        printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));

        char line[4096];
        while (!stopping && fgets(line, sizeof(line), stdin)) {
                char *args[MAX_ARGS];
                int n = 0;
                for (char *tok = strtok(line, " \t\r\n"); tok && n < MAX_ARGS;
                     tok = strtok(NULL, " \t\r\n"))
                        args[n++] = tok;
                if (n == 0)
                        continue;
                if (!strcmp(args[0], "quit")) {
                        printf("OK bye\n");
                        break;
                }
                handle(mc, n, args);
        }

        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
