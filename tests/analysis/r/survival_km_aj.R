# Reference numbers for tests/analysis/test_survival_r.py and test_competing_r.py.
# Produced with Debian's R 4.2.2 and r-cran-survival 3.5-3, from this folder:
#   Rscript survival_km_aj.R > survival_km_aj.out
# Data: R survival's own lung, mgus2 and pbc (exported by ../data/export_datasets.R) and the
# synthetic cohort of ../data/make_synthetic_cohort.py. Curves: Kaplan-Meier with log-log CIs
# and medians (quantile.survfit), and Aalen-Johansen with the infinitesimal-jackknife standard
# error R reports for multi-state curves; with and without delayed entry (left truncation).
suppressMessages(library(survival))
source("emit.R")

km <- function(label, fit) {
  emit(label, "time", fit$time)
  emit(label, "n_risk", fit$n.risk)
  emit(label, "n_event", fit$n.event)
  emit(label, "surv", fit$surv)
  emit(label, "std_err", fit$surv * fit$std.err)  # standard error of S (summary.survfit)
  emit(label, "lower", fit$lower)
  emit(label, "upper", fit$upper)
  q <- quantile(fit, probs = 0.5)
  emit(label, "median", c(q$quantile, q$lower, q$upper))
}

aj <- function(label, fit, states) {
  emit(label, "time", fit$time)
  emit(label, "n_risk", fit$n.risk[, 1])
  for (k in seq_along(states)) {
    j <- match(states[k], fit$states)
    emit(label, paste0("cif_", k), fit$pstate[, j])
    emit(label, paste0("se_", k), fit$std.err[, j])
    emit(label, paste0("lower_", k), fit$lower[, j])
    emit(label, paste0("upper_", k), fit$upper[, j])
  }
}

lung <- read_data("lung")
km("lung", survfit(Surv(time, status == 2) ~ 1, data = lung, conf.type = "log-log"))
km("lung_female", survfit(Surv(time, status == 2) ~ 1, data = lung, subset = sex == 2, conf.type = "log-log"))

# the median where S(t) = 0.5 over an interval: the midpoint (S = 0.5 from 3 to 5: median 4)
flat <- data.frame(time = c(1, 2, 3, 4, 5, 6), status = c(1, 1, 1, 0, 1, 0))
km("flat_median", survfit(Surv(time, status) ~ 1, data = flat, conf.type = "log-log"))
# ... and where it stays at 0.5 to the last follow-up: the midpoint with the last time (5.5)
flat_end <- data.frame(time = c(1, 2, 3, 9), status = c(1, 1, 0, 0))
km("flat_to_end", survfit(Surv(time, status) ~ 1, data = flat_end, conf.type = "log-log"))

mgus2 <- read_data("mgus2")
mgus2$exit_age <- mgus2$age + mgus2$futime / 12
km("mgus2_age", survfit(Surv(age, exit_age, death) ~ 1, data = mgus2, conf.type = "log-log"))

pbc <- read_data("pbc")
pbc$exit_age <- pbc$age + pbc$time / 365.25
km("pbc_death_age", survfit(Surv(age, exit_age, status == 2) ~ 1, data = pbc, conf.type = "log-log"))

syn <- read_data("synthetic_cohort")
km("syn_entry", survfit(Surv(entry, time, status > 0) ~ 1, data = syn, conf.type = "log-log"))
km("syn_no_entry", survfit(Surv(time, status > 0) ~ 1, data = syn, conf.type = "log-log"))

# competing risks: progression to plasma-cell malignancy (1) or death first (2)
mgus2$etime <- ifelse(mgus2$pstat == 1, mgus2$ptime, mgus2$futime)
mgus2$event <- ifelse(mgus2$pstat == 1, 1, 2 * mgus2$death)
mgus2$eexit_age <- mgus2$age + mgus2$etime / 12
aj("mgus2_aj", survfit(Surv(etime, factor(event, 0:2)) ~ 1, data = mgus2, conf.type = "log-log"), c("1", "2"))
aj("mgus2_aj_age", survfit(Surv(age, eexit_age, factor(event, 0:2)) ~ 1, data = mgus2, id = id,
                         conf.type = "log-log"), c("1", "2"))
# pbc: transplant (1) and death (2) compete
aj("pbc_aj", survfit(Surv(time, factor(status, 0:2)) ~ 1, data = pbc, conf.type = "log-log"), c("1", "2"))
aj("pbc_aj_age", survfit(Surv(age, exit_age, factor(status, 0:2)) ~ 1, data = pbc, id = id,
                       conf.type = "log-log"), c("1", "2"))
aj("syn_aj_entry", survfit(Surv(entry, time, factor(status, 0:2)) ~ 1, data = syn, id = id,
                         conf.type = "log-log"), c("1", "2"))
# everyone at risk at the last time has the event: the standard error there stays finite
last <- data.frame(time = c(2, 3, 3, 5, 6, 8, 8), status = c(1, 0, 2, 1, 0, 1, 2))
aj("last_time_aj", survfit(Surv(time, factor(status, 0:2)) ~ 1, data = last, conf.type = "log-log"), c("1", "2"))
