# Reference numbers for tests/analysis/test_finegray_r.py.
# Produced with Debian's R 4.2.2, r-cran-cmprsk 2.2-11 and r-cran-survival 3.5-3, from this folder:
#   Rscript finegray_crr.R > finegray_crr.out
# Fine-Gray subdistribution-hazard models by cmprsk::crr (Breslow ties; the Fine & Gray 1999
# sandwich variance; predict.crr for a covariate pattern) and by survival::finegray + coxph (the
# censoring-weighted counting-process data of Geskus 2011; Efron and Breslow ties), and the
# cause-specific Cox models, on R survival's mgus2 (progression vs death) and pbc (transplant vs
# death) data and on the synthetic cohort of ../data/make_synthetic_cohort.py.
suppressMessages({library(survival); library(cmprsk)})
source("emit.R")

fg_models <- function(label, d, time, status, formula, cause, pattern) {
  d <- d[complete.cases(d[, all.vars(formula)]), ]
  x <- model.matrix(formula, d)[, -1, drop = FALSE]
  # gtol tightened from 1e-6 so crr reports the optimum itself (its default stops ~1e-6 short)
  fit <- crr(d[[time]], d[[status]], cov1 = x, failcode = cause, cencode = 0, gtol = 1e-12, maxiter = 50)
  emit(label, "crr_coef", fit$coef)
  emit(label, "crr_se", sqrt(diag(fit$var)))
  emit(label, "crr_loglik", fit$loglik)
  p <- predict(fit, cov1 = matrix(pattern, nrow = 1))
  emit(label, "crr_pred_time", p[, 1])
  emit(label, "crr_pred_cif", p[, 2])
  d$fg_status <- factor(d[[status]], levels = sort(unique(c(0, d[[status]]))))
  d$fg_time <- d[[time]]
  fg <- finegray(as.formula(paste("Surv(fg_time, fg_status) ~ .")), data = d[, c("fg_time", "fg_status", all.vars(formula))],
                 etype = as.character(cause))
  rhs <- paste(attr(terms(formula), "term.labels"), collapse = " + ")
  for (ties in c("efron", "breslow")) {
    cf <- coxph(as.formula(paste("Surv(fgstart, fgstop, fgstatus) ~", rhs)), data = fg, weights = fgwt, ties = ties)
    emit(label, paste0("fg_coef_", ties), coef(cf))
    emit(label, paste0("fg_robust_se_", ties), sqrt(diag(vcov(cf))))
    cs <- coxph(as.formula(paste0("Surv(", time, ", ", status, " == ", cause, ") ~ ", rhs)), data = d, ties = ties)
    emit(label, paste0("cs_coef_", ties), coef(cs))
    emit(label, paste0("cs_se_", ties), sqrt(diag(vcov(cs))))
  }
}

mgus2 <- read_data("mgus2")
mgus2$etime <- ifelse(mgus2$pstat == 1, mgus2$ptime, mgus2$futime)
mgus2$event <- ifelse(mgus2$pstat == 1, 1, 2 * mgus2$death)
mgus2$sex <- factor(mgus2$sex, levels = c("F", "M"))
for (cause in 1:2) {
  fg_models(paste0("mgus2_cause", cause), mgus2, "etime", "event", ~ age + sex + hgb, cause, c(70, 1, 13))
}

pbc <- read_data("pbc")
pbc$log_bili <- log(pbc$bili)
pbc$log_albumin <- log(pbc$albumin)
for (cause in 1:2) {
  fg_models(paste0("pbc_cause", cause), pbc, "time", "status", ~ age + edema + log_bili + log_albumin, cause,
            c(50, 0, log(1.5), log(3.5)))
}

syn <- read_data("synthetic_cohort")
syn$therapy <- relevel(factor(syn$therapy), ref = "autologous_hsct")
for (cause in 1:2) {
  # dummy order of model.matrix: therapycar_t, therapymsc
  fg_models(paste0("syn_cause", cause), syn, "time", "status", ~ age + sledai + nephritis + therapy, cause,
            c(40, 10, 1, 0, 1))
}
