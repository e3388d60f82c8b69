# Reference numbers for tests/analysis/test_regression_r.py.
# Produced with Debian's R 4.2.2 and r-cran-survival 3.5-3, from this folder:
#   Rscript survival_cox.R > survival_cox.out
# Cox models with Efron and Breslow ties on R survival's own lung, pbc, mgus2 (age time scale:
# delayed entry) and heart (counting-process rows, several per person) data and on the synthetic
# cohort of ../data/make_synthetic_cohort.py (delayed entry, a factor covariate); for each fit the
# coefficients, model-based standard errors, log partial likelihoods, concordance, the
# proportional-hazards score test (cox.zph, per coefficient and global) and the predicted survival
# of one covariate pattern (survfit.coxph).
suppressMessages(library(survival))
source("emit.R")
options(warn = 1)

cox <- function(label, fit, newdata, transform = "km") {
  emit(label, "coef", coef(fit))
  emit(label, "se", sqrt(diag(vcov(fit))))
  emit(label, "loglik", fit$loglik)
  emit(label, "n_event", fit$nevent)
  emit(label, "concordance", fit$concordance["concordance"])
  z <- cox.zph(fit, transform = transform, terms = FALSE)
  emit(label, "zph_chisq", z$table[, "chisq"])
  emit(label, "zph_p", z$table[, "p"])
  sf <- survfit(fit, newdata = newdata)
  emit(label, "pred_time", sf$time)
  emit(label, "pred_surv", sf$surv)
}

lung <- read_data("lung")
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(time, status == 2) ~ age + sex + ph.ecog, data = lung, ties = ties)
  cox(paste0("lung_", ties), fit, data.frame(age = 60, sex = 2, ph.ecog = 1))
}
fit <- coxph(Surv(time, status == 2) ~ age + sex + ph.ecog, data = lung)
z <- cox.zph(fit, transform = "rank", terms = FALSE)
emit("lung_efron", "zph_rank_chisq", z$table[, "chisq"])

pbc <- read_data("pbc")
pbc$log_bili <- log(pbc$bili)
pbc$log_albumin <- log(pbc$albumin)
pbc$log_protime <- log(pbc$protime)
pbc$exit_age <- pbc$age + pbc$time / 365.25
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(time, status == 2) ~ age + edema + log_bili + log_albumin + log_protime, data = pbc, ties = ties)
  cox(paste0("pbc_", ties), fit,
      data.frame(age = 50, edema = 0, log_bili = log(1.5), log_albumin = log(3.5), log_protime = log(10.5)))
  # age as the time scale: delayed entry at the age of enrolment
  fit <- coxph(Surv(age, exit_age, status == 2) ~ edema + log_bili + log_albumin, data = pbc, ties = ties)
  cox(paste0("pbc_age_", ties), fit, data.frame(edema = 0, log_bili = log(1.5), log_albumin = log(3.5)))
}

mgus2 <- read_data("mgus2")
mgus2$exit_age <- mgus2$age + mgus2$futime / 12
mgus2$sex <- factor(mgus2$sex, levels = c("F", "M"))
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(age, exit_age, death) ~ sex + hgb + creat, data = mgus2, ties = ties)
  cox(paste0("mgus2_age_", ties), fit, data.frame(sex = "M", hgb = 13, creat = 1.1))
}

heart <- read_data("heart")
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = heart, ties = ties)
  cox(paste0("heart_", ties), fit, data.frame(age = 0, year = 3, surgery = 0, transplant = 1))
}

syn <- read_data("synthetic_cohort")
syn$therapy <- relevel(factor(syn$therapy), ref = "autologous_hsct")
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(entry, time, status == 1) ~ age + sledai + nephritis + therapy, data = syn, ties = ties)
  cox(paste0("syn_entry_", ties), fit, data.frame(age = 40, sledai = 10, nephritis = 1, therapy = "msc"))
}
