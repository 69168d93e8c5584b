package stage

// Verdict collects a stage's findings while it judges: the first failure's
// reason becomes Result.Reason, any failure means Fail, else any warning
// means Warn, else Pass. Stages use it so that every judge treats findings
// the same way.
type Verdict struct {
	Findings []Finding
	Fails    []string // failure messages, in order
	Warns    []string // warning messages, in order
	Reason   string   // reason of the first failure
}

// Fail records a critical finding and its reason (the first reason wins).
func (v *Verdict) Fail(reason, code, subject, msg string) {
	if v.Reason == "" {
		v.Reason = reason
	}
	v.Fails = append(v.Fails, msg)
	v.Findings = append(v.Findings, Finding{Code: code, Severity: Critical, Subject: subject, Message: msg})
}

// Warn records a warning finding.
func (v *Verdict) Warn(code, subject, msg string) {
	v.Warns = append(v.Warns, msg)
	v.Findings = append(v.Findings, Finding{Code: code, Severity: Warning, Subject: subject, Message: msg})
}

// Info records an informational finding.
func (v *Verdict) Info(code, subject, msg string) {
	v.Findings = append(v.Findings, Finding{Code: code, Severity: Info, Subject: subject, Message: msg})
}

// Status is Fail with any failure, else Warn with any warning, else Pass.
func (v *Verdict) Status() Status {
	switch {
	case len(v.Fails) > 0:
		return Fail
	case len(v.Warns) > 0:
		return Warn
	}
	return Pass
}
