# Reference numbers for tests/evidence/test_evidence_glmm_metafor.py.
# metafor 3.8-1 + lme4 1.1-31 (Debian r-cran-metafor, r-cran-lme4):  Rscript metafor_glmm.R
# Binomial-normal random-intercept model for single proportions, rma.glmm(measure="PLO"),
# fitted with adaptive Gauss-Hermite quadrature (nAGQ = 7 and 32).
suppressMessages(library(metafor))
out <- function(label, res) {
  cat(sprintf("%s|k=%d|est=%.10f|se=%.10f|ci_lb=%.10f|ci_ub=%.10f|tau2=%.10f\n",
      label, res$k, res$b[1], res$se, res$ci.lb, res$ci.ub, res$tau2))
}
d <- dat.pritz1997
cat("pritz_xi=", paste(d$xi, collapse=","), "\n", sep="")
cat("pritz_ni=", paste(d$ni, collapse=","), "\n", sep="")
for (q in c(7, 32)) out(paste0("pritz_nAGQ", q), rma.glmm(measure="PLO", xi=xi, ni=ni, data=d, nAGQ=q))
xi <- c(4, 23, 9, 2); ni <- c(4, 83, 12, 3)
cat("msc_xi=", paste(xi, collapse=","), "\n", sep="")
cat("msc_ni=", paste(ni, collapse=","), "\n", sep="")
for (q in c(7, 32)) out(paste0("msc_nAGQ", q), rma.glmm(measure="PLO", xi=xi, ni=ni, nAGQ=q))
