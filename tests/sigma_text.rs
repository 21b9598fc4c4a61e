//! Sigma lists in other tools' notations: export -> import is the identity for every format,
//! every notation people paste is read, and malformed text gets a message naming its position.

use gits_sampler::schedule::{SIGMA_MAX, SIGMA_MIN, Schedule};
use gits_sampler::sigma_text::{FORMATS, FinalSigma, Format, export, import};
use gits_sampler::vp_discrete::DiscreteVp;

fn schedules() -> Vec<Vec<f64>> {
    let poly = Schedule::Polynomial { rho: 7.0 }.sigmas(10, SIGMA_MIN, SIGMA_MAX).unwrap();
    let logsnr = Schedule::Logsnr.sigmas(4, SIGMA_MIN, SIGMA_MAX).unwrap();
    let to_zero: Vec<f64> = logsnr.iter().copied().chain([0.0]).collect();
    // Numbers without short decimal forms (every bit must survive the text).
    let odd = vec![80.0 / 3.0, std::f64::consts::PI, 1.0 / 7.0, 1e-3 / 3.0];
    vec![poly, to_zero, odd]
}

#[test]
fn export_then_import_gives_back_the_sigmas_written_for_every_format() {
    for s in schedules() {
        let positive: Vec<f64> = s.iter().copied().filter(|&x| x > 0.0).collect();
        let with_zero: Vec<f64> = positive.iter().copied().chain([0.0]).collect();
        for format in FORMATS {
            let text = export(&s, format).unwrap();
            let expected = match format {
                Format::Json => &s,
                Format::Diffusers => &positive,
                Format::Kdiffusion | Format::Comfyui => &with_zero,
            };
            let back = import(&text, FinalSigma::Keep).unwrap_or_else(|e| panic!("{format}: {text}: {e}"));
            assert_eq!(&back.sigmas, expected, "{format}: {text}");
            assert_eq!(export(&back.sigmas, format).unwrap(), text, "{format}: a second round trip changed the text");
            let parsed: Format = format.to_string().parse().unwrap();
            assert_eq!(parsed, format);
        }
    }
}

#[test]
fn reads_the_notations_people_paste() {
    let cases: [(&str, &[f64], &str); 7] = [
        ("tensor([14.6146, 10.7468,  8.0815,  6.0650,\n         4.5245,  0.0292,  0.0000], device='cuda:0')", &[14.6146, 10.7468, 8.0815, 6.0650, 4.5245, 0.0292, 0.0], "tensor printout"),
        ("tensor([1.4615e+01, 2.4627e+00, 2.9168e-02, 0.0000e+00], dtype=torch.float64)", &[14.615, 2.4627, 0.029168, 0.0], "tensor printout"),
        ("sigmas=[14.61, 6.07, 2.46, 0.5]", &[14.61, 6.07, 2.46, 0.5], "sigmas=["),
        ("  sigmas = np.array([3.0, 1.0,])\n", &[3.0, 1.0], "sigmas=["),
        ("14.61, 6.07, 2.46, 0", &[14.61, 6.07, 2.46, 0.0], "ManualSigmas"),
        ("14.61 6.07\t2.46 0.0", &[14.61, 6.07, 2.46, 0.0], "ManualSigmas"),
        ("[80, 10., .5, 0.002]", &[80.0, 10.0, 0.5, 0.002], "a list"),
    ];
    for (text, sigmas, notation) in cases {
        let got = import(text, FinalSigma::Keep).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got.sigmas, sigmas, "{text}");
        assert!(got.notation.contains(notation), "{text}: read as {}", got.notation);
    }
}

#[test]
fn timesteps_map_through_ddpm_and_end_with_diffusers_final_step() {
    let got = import("timesteps=[999, 749, 499, 249]", FinalSigma::Keep).unwrap();
    let vp = DiscreteVp::ddpm();
    let mut expected = vp.sigmas_of(&[999, 749, 499, 249]).unwrap();
    expected.push(0.0);
    assert_eq!(got.sigmas, expected);
    assert!((got.sigmas[0] - 157.4).abs() < 0.5, "sigma at t = 999 is about 157, got {}", got.sigmas[0]);
    assert!(got.notation.contains("DDPM"));
}

#[test]
fn the_final_zero_is_kept_or_mapped_to_sigma_min_and_the_message_says_which() {
    let keep = import("[10, 1, 0]", FinalSigma::Keep).unwrap();
    assert_eq!(keep.sigmas, [10.0, 1.0, 0.0]);
    assert!(keep.last.contains("kept"), "{}", keep.last);
    let mapped = import("[10, 1, 0]", FinalSigma::SigmaMin(0.002)).unwrap();
    assert_eq!(mapped.sigmas, [10.0, 1.0, 0.002]);
    assert!(mapped.last.contains("replaced by the model's sigma_min 0.002"), "{}", mapped.last);
    let dropped = import("[10, 0.001, 0]", FinalSigma::SigmaMin(0.002)).unwrap();
    assert_eq!(dropped.sigmas, [10.0, 0.001]);
    assert!(dropped.last.contains("dropped"), "{}", dropped.last);
    let open = import("[10, 1]", FinalSigma::SigmaMin(0.002)).unwrap();
    assert_eq!(open.sigmas, [10.0, 1.0]);
    assert!(open.last.contains("stops there"), "{}", open.last);
}

#[test]
fn malformed_text_gets_a_message_naming_the_position() {
    let cases = [
        ("[1, 0.5, abc]", "line 1, column 10: 'abc' is not a number"),
        ("[1, 2]", "line 1, column 5: sigma 1 = 2 is not below sigma 0 = 1"),
        ("[1,\n 0,\n 0.5]", "line 2, column 2: sigma 1 = 0 must be finite and > 0"),
        ("[1, inf]", "line 1, column 5"),
        ("[1, 0.5", "line 1, column 8: expected ']'"),
        ("tensor([1, 0.5]", "line 1, column 16: expected ')'"),
        ("tensor([1, 0.5], cuda)", "line 1, column 18: expected 'name=value'"),
        ("1,,0.5", "line 1, column 3: an empty entry"),
        ("[1, 0] x", "line 1, column 8: unexpected 'x'"),
        ("sigmas [1, 0]", "line 1, column 8: expected '='"),
        ("timesteps=[1200, 10]", "line 1, column 12: timestep 1200 is outside 0..999"),
        ("timesteps=[10, 20]", "line 1, column 16: timestep 1 = 20 is not below"),
        ("timesteps=[10.5]", "line 1, column 12: '10.5' is not a whole timestep"),
        ("tensor(1.0)", "line 1, column 8: expected '['"),
        ("[1, [0.5]]", "line 1, column 5: expected a number"),
        ("", "no numbers found"),
        ("[5]", "at least 2 sigmas"),
        ("[2e5, 1]", "at most 100000"),
    ];
    for (text, message) in cases {
        let e = import(text, FinalSigma::Keep).expect_err(text).0;
        assert!(e.contains(message), "{text:?}: got {e:?}, wanted {message:?}");
    }
    assert!(export(&[1.0, 2.0], Format::Json).is_err());
    assert!("csv".parse::<Format>().unwrap_err().0.contains("expected json, kdiffusion, diffusers or comfyui"));
}
