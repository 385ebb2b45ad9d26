"""Numerical kernels copied verbatim into generated modules (NumPy only).

Each public kernel ``_name`` computes one special function accurately for float32 and float64
arrays, never raising a floating-point warning, and mapping NaN to NaN. Kernels used in block-wise
functions may return float64 for float32 input (computed far beyond float32 precision); the generated
function then rounds the result to float32 once. Their mathematical meaning
is the ``elementary`` form of the SymPy function of the same name in ``symact.functions``; the
test suite measures every kernel in ULPs against certified arbitrary-precision values.
The code printer copies a kernel's source (and the helpers named in ``KERNEL_DEPS``) into each
generated module that uses it. Keep each kernel self-contained apart from those helpers.
"""
import numpy as np
from scipy.special import erfc as _erfc

#: kernel -> SciPy functions it needs imported (as _name)
KERNEL_SCIPY = {"_ndtr": ("_erfc",)}

#: kernels that alone do not make a function run in blocks: a few passes, or a long series on the few
#: elements that need it (per block, its Python loop would cost more than the memory it saves)
KERNEL_UNBLOCKED = {"_sinc_grad", "_gammainc2", "_sin", "_cos", "_sinc", "_heaviside", "_exp_mul", "_exp_div",
                    "_expm1_div", "_exp_times"}
#: kernels of a few passes: a function using them runs in blocks only for inputs beyond cache size
KERNEL_LIGHT = {"_where", "_hypot", "_nan_kept", "_mask_value"}
#: kernels with float64 buffers but few of them (three: two float64, one float32, for float32 input): a
#: function of one result using them runs in 8 blocks, not 16 (gaussian's forward at 10^5: peak 1.88x
#: the input in float32, 1.63x in float64, and 0.85-0.91x the time); _gelu_tanh_xgate's buffers are
#: reused once dead (peak 1.87x / 1.70x the input at 10^5 in float64 / float32 in 8 blocks; 0.79x the time)
KERNEL_FEW_BUFFERS = {"_expnegsq", "_expneghalfsq", "_gelu_tanh_xgate"}
#: ... and kernels with about ten: 12 blocks (gelu_tanh's derivative: peak 2.07x / 2.49x the input at 10^5
#: in float64 / float32 with its Taylor patches' buffers, as in 16 blocks before its buffers were reused;
#: 0.94x / 0.96x the time, the fused 0.91x / 0.93x)
KERNEL_MID_BUFFERS = {"_gelu_tanh_slope", "_gelu_tanh_pair"}

#: (forward kernel, derivative kernel) of one argument -> one kernel returning both, sharing their work:
#: a fused forward-and-derivative calling the two on x in a row calls it instead
KERNEL_PAIRS = {("_gelu_tanh_xgate", "_gelu_tanh_slope"): "_gelu_tanh_pair"}

#: kernel -> helpers it calls (copied before it, with the helpers those call)
KERNEL_DEPS = {
    "_ndtr": ("_put", "_split", "_two_sum_err", "_exp_neg_half_sq", "_ndtr_arg", "_erfcx_table_rows", "_erfcx_table",
              "_erfcx_poly", "_erfcx_single"),
    "_npdf": ("_split", "_two_sum_err", "_exp_neg_half_sq"),
    "_ndtr_tail": ("_split", "_two_sum_err", "_exp_neg_half_sq", "_ndtr_arg", "_erfcx_table_rows", "_erfcx_table",
                   "_erfcx_poly"),
    "_npdf_tail": ("_split", "_two_sum_err", "_exp_neg_half_sq"),
    "_expnegsq": ("_split", "_two_sum_err", "_exp_neg_half_sq"),
    "_expneghalfsq": ("_split", "_two_sum_err", "_exp_neg_half_sq"),
    "_gelu_tanh_gate": ("_put", "_split", "_two_sum_err", "_gelu_tanh_arg", "_gelu_tanh_arg_plain", "_exp_mul"),
    "_gelu_tanh_xgate": ("_gelu_tanh_gate",),
    "_gelu_tanh_pair": ("_gelu_tanh_slope",),
    "_gelu_tanh_slope": ("_put", "_split", "_two_sum_err", "_gelu_tanh_arg", "_gelu_tanh_arg_plain", "_exp_mul"),
    "_x_minus_tanh": ("_wide", "_put"),
    "_sin": (),
    "_cos": (),
    "_sinc": ("_put",),
    "_sinc_grad": ("_wide", "_put", "_two_prod_err", "_two_sum_err", "_dd_mul", "_dd_add", "_reduce_2pi",
                   "_sinc_grad_far", "_minus_k_pi", "_sinc_grad_single"),
    "_taylor_patches": ("_put", "_patch_cells"),
    "_sin_affine": ("_wide", "_put", "_reduce_2pi", "_minus_k_pi", "_sin_single", "_sin_affine_exact"),
    "_gammainc2": ("_wide", "_put"),
    "_where": (),
    "_nan_kept": ("_where",),
    "_mask_value": (),
    "_exp_mul": ("_two_prod_err", "_two_sum_err", "_exp_exact_scale", "_exp_finish"),
    "_exp_div": ("_two_prod_err", "_exp_exact_scale", "_exp_finish"),
    "_expm1_div": ("_two_prod_err", "_exp_exact_scale"),
    "_exp_times": ("_exp_mul",),
    "_hypot": ("_put",),
    "_heaviside": (),
}


def _wide(x):
    """x as float64 (float32 work is done in float64 and rounded once at the end)."""
    return x.astype(np.float64) if x.dtype != np.float64 else x


def _put(a, i, v):
    """a.put(i, v) (i: flat indices, as np.flatnonzero gives), as a[i] = v where a is one-dimensional
    or C-contiguous (its flat view): NumPy's fancy assignment is 2-4x faster than its put."""
    if a.ndim == 1 or a.flags.c_contiguous:
        a.reshape(-1)[i] = v  # a view of a
    else:
        a.put(i, v)


def _two_prod_err(a, b, p):
    """a*b - p exactly, for p = fl(a*b) (Dekker; needs |a|, |b| < 2**995 and no underflow)."""
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _two_sum_err(a, b, s):
    """a + b - s exactly, for s = fl(a + b) (Knuth)."""
    bb = s - a
    return (a - (s - bb)) + (b - bb)


def _split(a, out=None):
    """(hi, lo) with hi = a rounded toward zero to 26 significant bits and lo = a - hi exactly.

    a: a float64 array; hi*hi, hi*c (c of 26 bits) are then exact products. out: buffers (hi, lo) to
    write them into (lo may be a itself).
    """
    hi, lo = (np.empty_like(a), np.empty_like(a)) if out is None else out
    np.bitwise_and(a.view(np.uint64), np.uint64(0xFFFFFFFFF8000000), out=hi.view(np.uint64))
    return hi, np.subtract(a, hi, out=lo)


def _exp_neg_half_sq(x, scale, simd=False, k=0):
    """exp(-scale*x**2) for scale in {1, 1/2}, with x**2 carried exactly; float64 result.

    float32 x: x**2 is exact in float64, and so is v = -scale*x**2 (x clipped to |x| <= 40). simd: with
    s = fl32(v) and e = v - s (exact, |e| <= 2**-24 |v|), exp(v) = exp(s) * (1 + e + O(e**2)), exp(s)
    from NumPy's float32 exp (SIMD, within 2.52 ULP; float64's is a scalar libm call, 3-5x slower
    here), the product in float64: within 3 ULP of float32 instead of correctly rounded.
    float64 x (clipped to |x| <= 40, where the result is 0 or subnormal already):
    x = h + l (h of 26 bits), x**2 = h**2 + l*(x + h) with h**2 exact, so
    exp(-scale*x**2) = exp(-scale*h**2) * exp(-scale*l*(x + h)); the second factor is within 2e-5 of 1
    and enters as 1 + expm1(...).
    k (float64 x, an integer): 2**k*exp(-scale*x**2), normal where the product is, as _exp_mul's k.
    """
    if x.dtype == np.float32:
        if not simd:
            w = x.astype(np.float64)
            w *= w
            w *= -scale
            return np.exp(w, out=w)
        v = x.clip(-40.0, 40.0, out=np.empty(x.shape, np.float64))
        v *= v
        v *= -scale
        s = v.astype(np.float32)
        v -= s  # e
        y = np.exp(s, out=s).astype(np.float64)
        v *= y
        y += v  # exp(s) + exp(s)*e, with e**2/2 < 2**-49 relative left out
        return y
    xc = x.clip(-40.0, 40.0)
    h, l = _split(xc)
    l *= xc + h
    l *= -scale  # |l| < 2**-24 * 40**2 < 1e-4
    h *= h
    h *= -scale
    if k:  # times 2**k: k*L1 added to the exponent (the sum's rounding error into l), k*L2 into l
        c = k * 0.6931471805592082  # L1: ln 2 to a multiple of 2**-40
        v = h + c
        l += _two_sum_err(h, c, v)
        l += k * 7.371002565167799e-13  # L2 = ln 2 - L1
        h = v
    t = l * 0.16666666666666666  # expm1(l) = l + l**2 (1/2 + l/6) + O(l**4 / 24), below 2**-60 here
    t += 0.5
    t *= l
    t *= l
    l += t
    del t
    np.exp(h, out=h)
    l *= h
    h += l  # exp(-scale*h**2) * (1 + expm1(-scale*l*(x + h))), the small part added last
    return h


def _erfcx_table():
    """Rows: interval centres, then c0_hi, c0_lo, c1 .. c12 of erfcx(centre + h) (symact.codegen.erfcx_fit)."""
    table = getattr(_erfcx_table, "cached", None)
    if table is None:
        table = _erfcx_table.cached = np.array(_erfcx_table_rows())
    return table


def _erfcx_table_rows():
    """The coefficients as printed from the fit: row k holds coefficient k of all 43 intervals."""
    return (
        (0.625, 0.875, 1.125, 1.375, 1.625, 1.875, 2.125, 2.375, 2.625, 2.875, 3.125, 3.375, 3.625, 3.875,
         4.25, 4.75, 5.25, 5.75, 6.25, 6.75, 7.25, 7.75, 8.5, 9.5, 10.5, 11.5, 12.5, 13.5, 14.5, 15.5, 16.5,
         17.5, 18.5, 19.5, 20.5, 21.5, 22.5, 23.5, 24.5, 25.5, 26.5, 27.5, 28.5),
        (0.5568138808733625, 0.464311583202669, 0.3956980795529959, 0.3432958898621254, 0.30226120936348594,
         0.2694299851646704, 0.24267036461265454, 0.22050569220490668, 0.201887554546017, 0.1860549346844711,
         0.1724443521021736, 0.1606310681265444, 0.15028972247426936, 0.1411674197630518, 0.12934527478598792,
         0.11630270721024731, 0.1056127354688918, 0.09669877816971392, 0.08915663178727438,
         0.08269505677505307, 0.0770991803512599, 0.07220717081466976, 0.06592512249998035,
         0.05906467835256389, 0.05349189974656412, 0.048876546895982274, 0.04499209900102792,
         0.04167809676408815, 0.03881774707464722, 0.03632404305948543, 0.034130853321913276,
         0.03218702473823041, 0.03045237479977461, 0.028894903811938218, 0.02748881515193487,
         0.026213083193818983, 0.025050400098010076, 0.023986389566134008, 0.023009011874778183,
         0.022108108052519827, 0.021275046685371106, 0.0205024473846148, 0.01978396219291317),
        (2.8215672146600085e-17, -1.851963727754574e-17, -5.777675056089129e-18, -1.1924063146768541e-17,
         -2.1300243845955138e-17, 2.4834579724134718e-17, 8.859480007862904e-18, -1.3461229599930757e-17,
         3.2903559088569845e-18, 7.76667829835616e-18, 9.753823401573308e-18, 2.4080744685198277e-18,
         -1.3715686864572673e-19, -1.2534194691366023e-17, -1.2917508513157319e-17, -3.1774786879972914e-18,
         2.7634215791419046e-18, -1.7756572733539565e-18, 5.224908596182542e-18, -6.7623839302257225e-18,
         2.2284983518708047e-18, -2.7731997830403537e-18, 2.871027099933205e-19, 6.472479478713445e-19,
         -1.830318722712315e-18, 2.0928179406249848e-18, -6.338940826756605e-19, -2.450130267373736e-18,
         7.523978584895344e-19, -2.1752183563394312e-18, -2.0621626191377093e-18, -8.496993483048684e-19,
         1.2546773289431243e-18, 3.8955280851866956e-20, 1.4137334234022685e-18, -7.942519961483657e-19,
         -1.0240674036398839e-19, 4.546796360905795e-19, -1.0828270658206756e-18, -4.7081340478585653e-20,
         1.84766862417374e-20, -6.13643128602669e-19, 9.336432304822564e-19),
        (-0.43236181600380946, -0.3158338964908418, -0.2380584881012718, -0.18431546997466777,
         -0.14603023666418335, -0.11801672272799837, -0.09703011749173075, -0.08097712912220592,
         -0.06846950572892327, -0.05856329265980373, -0.05060196645692752, -0.044119457241337846,
         -0.03877867915705971, -0.034331663931861184, -0.028944331414615332, -0.02350344859816315,
         -0.01944544467214865, -0.016343218143802483, -0.0139212697545827, -0.01199590063229627,
         -0.010441052002244, -0.009168019468131287, -0.007652084595846594, -0.006150278396798647,
         -0.005049272417666123, -0.004218588487920215, -0.003576692069814553, -0.003070554465132545,
         -0.0026645019307432118, -0.0023338322514642874, -0.002061007472374518, -0.0018333012574482908,
         -0.0016412995038520147, -0.0014779184299220857, -0.0013377458661828167, -0.001216589761296326,
         -0.0011111626850591498, -0.0010188574872141741, -0.0009375852313816467, -0.0008656564170014193,
         -0.0008016927708439582, -0.000744560941698697, -0.0006933220994618173),
        (0.2865877458709816, 0.1879569237731824, 0.12788228043906513, 0.08986211864695719, 0.06496207478418799,
         0.04814863004967349, 0.0364813649427267, 0.028185010539667613, 0.022155102007593415,
         0.01768546828753539, 0.014313206924275092, 0.011727899937029176, 0.009717010529927907,
         0.0081322220270897, 0.006331866273872749, 0.00466132636897234, 0.003524150940111397,
         0.002725273842849635, 0.0021486958211325118, 0.0017227275070532352, 0.0014015533349909033,
         0.0011550199366522939, 0.0008824034352843002, 0.000637033582976738, 0.0004745393610698289,
         0.0003627792848997999, 0.0002834481283460112, 0.00022561148479879268, 0.00018246907887064828,
         0.00014964316178897458, 0.00012423002773372395, 0.0001042527328853189, 8.833397851233878e-05,
         7.549442845754732e-05, 6.502489518712886e-05, 5.640332594797207e-05, 4.923968417920633e-05,
         4.323861660091544e-05, 3.8173705927838485e-05, 3.3869418983635286e-05, 3.0188258006211803e-05,
         2.702148790063083e-05, 2.4282358251380265e-05),
        (-0.1688296498896327, -0.10091439212620548, -0.06279394840488257, -0.04050337122340118,
         -0.02697791009325194, -0.01849202758990707, -0.013004811325624345, -0.009358486060330228,
         -0.00687490863932704, -0.005145047555426323, -0.003915463212378573, -0.0030251966359095845,
         -0.002369677324047367, -0.001879535717925734, -0.0013559331671041072, -0.0009080988970296932,
         -0.0006291014910425442, -0.00044859569827805613, -0.0003279472483363343, -0.0002449933064579556,
         -0.0001865268823733005, -0.00014440997271733915, -0.00010110359728669772, -6.563957234642504e-05,
         -4.440608428861308e-05, -3.108447438167782e-05, -2.2393643659608726e-05, -1.6532946899229145e-05,
         -1.246685807920767e-05, -9.575495823454113e-06, -7.474676512048755e-06, -5.918954636806694e-06,
         -4.747267582498154e-06, -3.851383333275194e-06, -3.1570098977833964e-06, -2.6121689432843094e-06,
         -2.1798606846714945e-06, -1.8333313951075577e-06, -1.5529574330692562e-06, -1.3241552791463368e-06,
         -1.1359557862303505e-06, -9.800162875660683e-07, -8.499261983197983e-07),
        (0.09053460734498192, 0.04982841533137681, 0.028619544241786313, 0.017084991607390358,
         0.010561485441326825, 0.006738039159298881, 0.00442307043788749, 0.0029793030731916637,
         0.0020542334146799695, 0.0014467282828423563, 0.0010386921927960265, 0.0007589306454171639,
         0.0005634651151281015, 0.00042451056006373997, 0.00028457515684016734, 0.00017392830404065545,
         0.00011068405606902251, 7.292428887540696e-05, 4.951275951521169e-05, 3.451134423101758e-05,
         2.4616718892237402e-05, 1.79213240464578e-05, 1.1511429173695604e-05, 6.728822842852916e-06,
         4.137738019696641e-06, 2.6539147552527465e-06, 1.76379130045114e-06, 1.2083508295996606e-06,
         8.498183610685634e-07, 6.114882627179319e-07, 4.4893264245974274e-07, 3.355133706008824e-07,
         2.547641180614607e-07, 1.9622672934052484e-07, 1.5309614128461773e-07, 1.2084683367971056e-07,
         9.640938704885368e-08, 7.76644079439175e-08, 6.312440882085275e-08, 5.172968270184761e-08,
         4.271483555375554e-08, 3.5519996281977336e-08, 2.9730799633005478e-08),
        (-0.04489820811854473, -0.022925811484156768, -0.012238784453032324, -0.006804603105254051,
         -0.003926198500422747, -0.0023432816664825835, -0.0014423146580429004, -0.0009130565045989669,
         -0.0005930183703163913, -0.0003942814969016125, -0.00026782004395629953, -0.000185522283050616,
         -0.0001308465126831764, -9.38229190714849e-05, -5.859550021221337e-05, -3.277578113429118e-05,
         -1.9204078671960366e-05, -1.171241489774827e-05, -7.39700054649034e-06, -4.816693159429222e-06,
         -3.222268161829436e-06, -2.20788454291548e-06, -1.3025797240344664e-06, -6.863021357100198e-07,
         -3.839340327142408e-07, -2.2578187850696527e-07, -1.3850096158728825e-07, -8.808427985331203e-08,
         -5.7796737485332035e-08, -3.8971100530439955e-08, -2.691516458518852e-08, -1.8988260516495592e-08,
         -1.365255934445023e-08, -9.984844453982515e-09, -7.415600579492593e-09, -5.584807668212675e-09,
         -4.259790428914505e-09, -3.287123370198566e-09, -2.5637667833455298e-09, -2.0193480996891317e-09,
         -1.6050576223314935e-09, -1.2865559246765675e-09, -1.0393635116568673e-09),
        (0.020824409089725073, 0.009922776760704834, 0.00495030391062935, 0.0025762207791909016,
         0.0013938042927005585, 0.0007814620115426119, 0.0004527172631797362, 0.00027026462492196177,
         0.00016585339753264242, 0.00010438965974982962, 6.725151847740898e-05, 4.426431337371653e-05,
         2.9715502217163306e-05, 2.0315582887227988e-05, 1.1848093644260273e-05, 6.08111455032793e-06,
         3.287547680200604e-06, 1.8593010710393846e-06, 1.0938353665176172e-06, 6.662218016102312e-07,
         4.184249063188303e-07, 2.7007294628491814e-07, 1.4650050623371106e-07, 6.96508511408561e-08,
         3.547689204740433e-08, 1.9141050801560674e-08, 1.084309353454696e-08, 6.404350525832747e-09,
         3.92188917674957e-09, 2.4787348318935583e-09, 1.610808934645397e-09, 1.0729371873721962e-09,
         7.30590063028537e-10, 5.074208292807898e-10, 3.587764683357273e-10, 2.57822937710438e-10,
         1.880341327578505e-10, 1.3900291474967842e-10, 1.0404087629533258e-10, 7.876871992466373e-11,
         6.026952065683314e-11, 4.656945112381609e-11, 3.631318359485969e-11),
        (-0.009109415215390305, -0.0040695377378321225, -0.0019056264695248481, -0.0009320855902612192,
         -0.0004746475819316404, -0.0002508686855750777, -0.00013722585019556091, -7.74794346316363e-05,
         -4.504377204111378e-05, -2.690320722274112e-05, -1.6474013939592873e-05, -1.0322921557154124e-05,
         -6.607947761042391e-06, -4.314295826420686e-06, -2.354600698283172e-06, -1.1115677387620727e-06,
         -5.555581062944262e-07, -2.918382133154794e-07, -1.6015128813462644e-07, -9.134171417900852e-08,
         -5.3910740416902856e-08, -3.280548839965941e-08, -1.6378692819471235e-08, -7.034014508606431e-09,
         -3.2647618461033734e-09, -1.617084103559209e-09, -8.463692655945223e-10, -4.644422180424425e-10,
         -2.655269787800837e-10, -1.57345896403291e-10, -9.623347545816497e-11, -6.053135363847884e-11,
         -3.9040908154361766e-11, -2.5753795161254186e-11, -1.733799389685092e-11, -1.188985927234284e-11,
         -8.292126248814457e-12, -5.872821024428854e-12, -4.218661174954952e-12, -3.070211889034625e-12,
         -2.261521407498738e-12, -1.6845767920348245e-12, -1.2679369153340092e-12),
        (0.003782756258424993, 0.0015904828502581662, 0.0007016185480284176, 0.0003236507789235028,
         0.00015562549534526093, 7.777080749883476e-05, 4.027808330310593e-05, 2.1562742109066935e-05,
         1.1903374070072646e-05, 6.760734788759569e-06, 3.942556250111947e-06, 2.356113290277071e-06,
         1.4404229014202357e-06, 8.99421642938506e-07, 4.6026024710607385e-07, 2.0029197311131203e-07,
         9.271691439756373e-08, 4.530783943539276e-08, 2.322245523774278e-08, 1.2416308278931702e-08,
         6.893009817944671e-09, 3.957602909185928e-09, 1.8204067515638345e-09, 7.069289684495699e-10,
         2.9922335562035623e-10, 1.361459646802597e-10, 6.586945071497926e-11, 3.359515400833027e-11,
         1.7936999554264914e-11, 9.968360897133796e-12, 5.739148070580989e-12, 3.4096249942957203e-12,
         2.083315700848732e-12, 1.305455989667747e-12, 8.368984051208764e-13, 5.477408619050563e-13,
         3.6532305280650047e-13, 2.479051763002643e-13, 1.7091938156806335e-13, 1.1957919116208914e-13,
         8.480084110948834e-14, 6.08973366956407e-14, 4.424537757937674e-14),
        (-0.0014989067951486311, -0.0005950731226669547, -0.00024806517590081605, -0.00010823586083519329,
         -4.9278779864759255e-05, -2.3343951257309468e-05, -1.1474369509694925e-05, -5.837291601586933e-06,
         -3.066081557659455e-06, -1.6591273185977365e-06, -9.230034409904174e-07, -5.268965119915123e-07,
         -3.080916260858646e-07, -1.8423016139041112e-07, -8.855269071293397e-08, -3.559524950728184e-08,
         -1.5287462534906585e-08, -6.95953003205739e-09, -3.3357443939651612e-09, -1.6736881627728524e-09,
         -8.747564683350654e-10, -4.742353976289625e-10, -2.0115615113201646e-10, -7.07070049385098e-11,
         -2.7314336212172243e-11, -1.1423306707064955e-11, -5.1113166249518165e-12, -2.4239034206247943e-12,
         -1.2089904973676994e-12, -6.302869262203881e-13, -3.4167276846287e-13, -1.9175868305661721e-13,
         -1.1101481720723623e-13, -6.608952706021832e-14, -4.035029890037681e-14, -2.5206802956455603e-14,
         -1.6079442722991618e-14, -1.04554097435772e-14, -6.919178987793261e-15, -4.6538893946978226e-15,
         -3.177580217814485e-15, -2.2000063656827275e-15, -1.543033717037558e-15),
        (0.0005691765826741029, 0.00021395483349863278, 8.450760676854731e-05, 3.496474482374798e-05,
         1.5109276732553369e-05, 6.8000889612901964e-06, 3.1789704768334423e-06, 1.5398174251029425e-06,
         7.709739165843627e-07, 3.981448957189344e-07, 2.1163220542314262e-07, 1.1556655511384625e-07,
         6.471765449034604e-08, 3.710568911889599e-08, 1.6780538925852964e-08, 6.242351002216837e-09,
         2.491353204776191e-09, 1.0580359624814072e-09, 4.747818537832054e-10, 2.237706184182618e-10,
         1.1019979947776475e-10, 5.645328598547696e-11, 2.2102752752976917e-11, 7.0390308591052595e-12,
         2.483544505378692e-12, 9.552544114567775e-13, 3.954802178232928e-13, 1.7444630161919177e-13,
         8.13090138775701e-14, 3.977474862062881e-14, 2.0305869969318608e-14, 1.0767898302449617e-14,
         5.90747339002288e-15, 3.3416115169989045e-15, 1.9432280732448837e-15, 1.1587960032471199e-15,
         7.070492402505734e-16, 4.405699275889738e-16, 2.7987612097347485e-16, 1.8098847514264788e-16,
         1.1898462719181876e-16, 7.942708885883483e-17, 5.3780021976883356e-17),
        (-0.00020912350071074624, -7.456866102720806e-05, -2.795719976635647e-05, -1.098807548497499e-05,
         -4.514364028833331e-06, -1.9334345754266977e-06, -8.60973143103244e-07, -3.9765523934743816e-07,
         -1.9005181976253436e-07, -9.3786036968736e-08, -4.768899282448834e-08, -2.493926126417226e-08,
         -1.3389445030460211e-08, -7.367786439380672e-09, -3.1551582167171534e-09, -1.087124908585495e-09,
         -4.0348916631902254e-10, -1.59955785935141e-10, -6.723905524141337e-11, -2.978337098406193e-11,
         -1.3826295198154912e-11, -6.695477859261995e-12, -2.4383392672978756e-12, -7.030305603764175e-13,
         -2.2642359096843592e-13, -8.006244741532591e-14, -3.065872006513829e-14, -1.2575632854092643e-14,
         -5.476242505772515e-15, -2.51320668762256e-15, -1.2081503686471152e-15, -6.052598026238367e-16,
         -3.1463903025903574e-16, -1.6909504589651733e-16, -9.365250444589872e-17, -5.3307242975038406e-17,
         -3.110952763222987e-17, -1.8575130772943908e-17, -1.132664003946544e-17, -7.041945924262418e-18,
         -4.457351573222401e-18, -2.8687418728611155e-18, -1.8751346545187383e-18),
        (7.363214257331038e-05, 2.497428235728618e-05, 8.911018197121129e-06, 3.335187449560455e-06,
         1.3057676665450787e-06, 5.333442670538872e-07, 2.2669477497353674e-07, 1.0002736415628084e-07,
         4.5713797574382465e-08, 2.159192706377783e-08, 1.051893570881236e-08, 5.275506170316265e-09,
         2.71892536935332e-09, 1.4376435628898673e-09, 5.808766776630088e-10, 1.858659113672633e-10,
         6.42955847935231e-11, 2.383793968233468e-11, 9.401845719013377e-12, 3.9192460580757995e-12,
         1.7171123675121502e-12, 7.868316633858828e-13, 2.649374543815776e-13, 6.933954586710732e-14,
         2.042661517327994e-14, 6.650467287042239e-15, 2.3585464035049866e-15, 9.005359286261786e-16,
         3.6668324109271966e-16, 1.579836663401429e-16, 7.155390167714138e-17, 3.3882569499914794e-17,
         1.6696533302885066e-17, 8.528299500716251e-18, 4.4999163472335334e-18, 2.4455149532592716e-18,
         1.3653468956913684e-18, 7.813462562478984e-19, 4.574140099522594e-19, 2.734495823187412e-19,
         1.6667402232867432e-19, 1.0343677653001502e-19, 6.527617388877665e-20),
    )


def _erfcx_poly(a):
    """erfcx(a) = exp(a**2)*erfc(a) for 1/2 <= a <= 29 to ~1 ULP (SciPy's: up to 6 ULP).

    Interval floor(min(4a - 2, 2a + 6, a + 14)) (width 1/4 below 4, 1/2 below 8, 1 above), looked up
    from j = round(4a - 1/2) (floor(4a), or the interval below at an edge, which also holds it), then its
    polynomial in h = a - centre (exact), the constant term added last in two parts.
    """
    t = _erfcx_table()
    lookup = getattr(_erfcx_poly, "lookup", None)
    if lookup is None:
        j = np.arange(4 * 29 + 1)
        lookup = _erfcx_poly.lookup = np.clip(np.minimum(np.minimum(j - 2, (j + 12) // 2), j // 4 + 14),
                                              0, t.shape[1] - 1)
    j = np.multiply(a, 4.0)
    j += 4503599627370495.5  # 2**52 - 1/2: one rounding to 2**52 + round(4a - 1/2), read from the bits
    j = j.view(np.int64)
    j -= 0x4330000000000000  # the bits of 2**52
    i = lookup.take(j, mode="clip")
    row = j.view(np.float64)  # j's memory holds each row's coefficients in turn (mode="clip": unbuffered)
    h = np.subtract(a, t[0].take(i, out=row, mode="clip"))
    acc = t[-1].take(i, mode="clip")
    for k in range(t.shape[0] - 2, 0, -1):
        if k > 1:
            acc *= h
        acc += t[k].take(i, out=row, mode="clip")
    return acc


def _erfcx_single(a):
    """erfcx(a) = exp(a**2)*erfc(a) for 0 <= a <= 10.5 to 1.8e-14 relative, for float32 results.

    P(a)/Q(a) of degrees 7 and 8 (symact.codegen.erfcx_fit.rational), by Horner's rule: all coefficients
    are positive, so nothing cancels.
    """
    p = (0.9999999999999819, 1.7903772877521884, 1.5837161330987712, 0.8652622898039014, 0.31167248787082363,
         0.07383179983983508, 0.01070403587544128, 0.0007436482674660862)
    q = (1.0, 2.918756454843839, 3.8771801107035304, 3.0736878752165246, 1.598420406211812, 0.5619105477358197,
         0.13152253799594207, 0.018972408377034223, 0.0013180822533414038)
    num, den = a * p[-1], a * q[-1]
    for acc, coeffs in ((num, p), (den, q)):
        for c in coeffs[-2:0:-1]:
            acc += c
            acc *= a
        acc += coeffs[0]
    num /= den
    return num


def _ndtr_arg(xc):
    """(p, d): p = fl(x/sqrt(2)) = -w and d = x/sqrt(2) - p exactly (float64 xc, used as a buffer)."""
    p = xc * 0.7071067811865476
    # 0.7071067811865476 = 0.7071067690849304 (26 bits) + 1.2101617152815436e-08
    h, d = _split(xc)
    d *= 0.7071067811865476
    d += h * 1.2101617152815436e-08
    xc *= -4.833646656726457e-17  # the constant's own tail: 1/sqrt(2) - 0.7071067811865476
    d += xc
    h *= 0.7071067690849304
    h -= p
    d += h
    return p, d


def _ndtr_tail(x):
    """2**64*Phi(x) for x < -37, where Phi(x) is below 2**-1000 while x*Phi(x) may still be normal.

    With a = -p = fl(-x/sqrt(2)) and d its rounding (_ndtr_arg): 2**64*Phi = E*(erfcx(a)/2 + d/sqrt(pi)),
    E = 2**64*exp(-a**2) (_exp_neg_half_sq's k). x is taken in [-40, -30] (0 below -40, and never
    used above -37).
    """
    xc = x.clip(-40.0, -30.0, out=np.empty(x.shape, np.float64))
    p, d = _ndtr_arg(xc)
    a = np.negative(p, out=p)
    q = _erfcx_poly(a)
    q *= 0.5
    d *= 0.5641895835477563
    q += d
    q *= _exp_neg_half_sq(a, 1.0, k=64)
    return q


def _npdf_tail(x):
    """2**64*exp(-x**2/2)/sqrt(2*pi), normal where x*pdf(x) is (see _ndtr_tail)."""
    out = _exp_neg_half_sq(np.asarray(x, np.float64), 0.5, k=64)
    out *= 0.3989422804014327
    return out


def _ndtr(x):
    """Standard normal CDF Phi(x) = erfc(w)/2, w = -x/sqrt(2), carrying the rounding of w.

    With a = |w|: q = erfc(a) (SciPy's erfc for a <= 1/2; beyond, where SciPy's erfc loses up to ~1e2
    ULP and its erfcx up to 6, erfcx(a)*exp(-a**2) with erfcx from _erfcx_poly and a**2 carried
    exactly), each evaluated only where it is used. Then
    Phi = q/2 for w >= 0 and 1 - q/2 for w < 0, branch-free as m + sigma*q/2 with sigma = sign(w) and
    m = (1 - sigma)/2. The rounding d of w (exact w = fl(w) - d) adds exp(-w**2)*d/sqrt(pi).
    float32 x: erfc(a) = exp(-a**2)*erfcx(a) throughout, erfcx from the rational _erfcx_single.
    """
    if x.dtype == np.float32:
        # in float64 (result left in float64), q = exp(-a**2)*erfcx(a) with the rational _erfcx_single:
        # the roundings of a and a**2 (< 4e-14 relative where a <= 10.5) are far below float32's. Beyond
        # a = 10.5 (x < -14.8) the rational is held at its value there: Phi and x*Phi stay below 1e-48,
        # zero in float32 all the same, and exp(-a**2) is 0 beyond a = 27.3 (a**2 < 6e76: no overflow)
        a = np.abs(x).astype(np.float64)
        a *= 0.7071067811865476
        e = np.multiply(a, a)
        np.negative(e, out=e)
        np.exp(e, out=e)
        a.clip(-np.inf, 10.5, out=a)  # NaN kept; no inf/inf in the rational (clip: a vector loop)
        q = _erfcx_single(a)
        q *= e
        sigma = np.copysign(np.float32(0.5), x)  # -sign(w)/2, exact in float32
        q *= sigma
        np.add(sigma, 0.5, out=e)  # m
        return np.subtract(e, q, out=q)
    xc = x.clip(-40.0, 40.0, out=np.empty(x.shape, np.float64))  # Phi is 0 below -38.5, 1 above 8.3
    p, d = _ndtr_arg(xc)
    a = np.abs(p, out=xc)
    q = np.empty_like(a)
    far = np.flatnonzero(a > 0.5)
    near = np.flatnonzero(~(a > 0.5))  # NaN included
    an = a.take(near)
    _put(q, near, _erfc(an))
    af = a.take(far)
    e = _exp_neg_half_sq(af, 1.0)
    np.multiply(an, an, out=an)
    np.negative(an, out=an)
    _put(a, near, np.exp(an, out=an))  # a = exp(-w**2): computed where erfc is, kept where erfcx's is
    _put(a, far, e)
    e *= _erfcx_poly(af)
    _put(q, far, e)
    del e, af, an
    a *= d  # exp(-w**2)*d
    a *= 0.5641895835477563
    sigma = np.copysign(0.5, p, out=p)  # -sign(w)/2 (w = -0.0 at x = 0; either branch gives 1/2)
    q *= sigma
    np.subtract(a, q, out=q)  # sign(w)*q/2 + exp(-w**2)*d/sqrt(pi)
    sigma += 0.5  # m
    q += sigma
    return q


def _npdf(x):
    """Standard normal density exp(-x**2/2)/sqrt(2*pi), with x**2 carried exactly."""
    out = _exp_neg_half_sq(x, 0.5)
    out *= 0.3989422804014327
    return out


def _expnegsq(x):
    """exp(-x**2), with x**2 carried exactly (float32: NumPy's SIMD exp, see _exp_neg_half_sq)."""
    return _exp_neg_half_sq(x, 1.0, simd=True)


def _expneghalfsq(x):
    """exp(-x**2/2), with x**2 carried exactly (float32: NumPy's SIMD exp, see _exp_neg_half_sq)."""
    return _exp_neg_half_sq(x, 0.5, simd=True)


def _gelu_tanh_arg(xc):
    """t = 2*sqrt(2/pi)*(x + 0.044715*x**3) = x*G, G = C1 + C3*x**2, as an unevaluated sum r + re (double-double).

    C1 = 2*sqrt(2/pi) = 1.5957691216057308 - 9.96930880911092e-17 and C3 = 0.044715*C1 = 0.071354815736413
    (26 bits) + 5.361872467621785e-10. x, x**2 and G are split once into 26-bit heads and tails (_split),
    so that the products of heads and tails are exact (Dekker's product, its splits shared). Within
    2e-23 |t| (C3's tail is one double), far below what the gate's first-order correction needs: the
    gate is 0 below t = -745, where that is 2e-20, against an ULP of 2e-16 for |t| >= 1. Returns
    (r, re, fl(x**2)).
    """
    xh, xl = _split(xc)  # each buffer is reused once its value is dead: 9 at most (the slope's peak)
    x2 = xc * xc
    x2e = xh * xh
    x2e -= x2  # exact
    w = xh * xl
    w += w
    x2e += w
    np.multiply(xl, xl, out=w)
    x2e += w  # x**2 = x2 + x2e
    g, lo = _split(x2)
    g *= 0.071354815736413  # exact: 26 + 26 bits
    lo *= 0.071354815736413
    np.multiply(x2, 5.361872467621785e-10, out=w)
    lo += w
    x2e *= 0.07135481627260025
    lo += x2e  # C3*x**2 = g + lo
    s = np.add(g, 1.5957691216057308, out=x2e)
    bb = s - 1.5957691216057308  # ge = C1 + g - s exactly (Knuth's two-sum, as _two_sum_err)
    ge = s - bb
    np.subtract(1.5957691216057308, ge, out=ge)
    np.subtract(g, bb, out=bb)
    ge += bb
    del bb
    lo -= 9.96930880911092e-17
    ge += lo  # s + ge = C1 + C3*x**2
    G = np.add(s, ge, out=g)
    np.subtract(G, s, out=s)
    ge -= s  # G + ge, |ge| <= ULP(G)/2 (Fast2Sum: |s| >= |ge|)
    r = np.multiply(xc, G, out=s)
    h, lo = _split(G, out=(lo, G))
    re = xh * h
    re -= r  # exact
    np.multiply(xh, lo, out=w)
    re += w
    np.multiply(xl, h, out=w)
    re += w
    np.multiply(xl, lo, out=w)
    re += w
    np.multiply(xc, ge, out=w)
    re += w
    t = np.add(r, re, out=ge)  # renormalized: the head is t rounded to nearest (Fast2Sum)
    r -= t
    re += r
    return t, re, x2


def _gelu_tanh_arg_plain(xc):
    """t = 2*sqrt(2/pi)*(x + 0.044715*x**3) in plain float64."""
    r = xc * xc
    r *= 0.044715
    r += 1.0
    r *= xc
    r *= 1.5957691216057308
    return r


def _gelu_tanh_gate(x, times=False, out=None):
    """(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))/2 = sigmoid(t), t carried in double-double.

    One exponential per element: sigmoid(t) = max(e, [t >= 0])/(1 + e) with e = exp(-|t|).
    times: x*sigmoid(t) instead (x below -40 taken as -40, where the gate is exactly 0: no -inf*0), and
    where r < -700, where the gate is subnormal or near it while x times it (~21 e at x = -21.2) is
    still normal, from e*2**64 (_exp_mul), scaled back once at the end; out: as a ufunc's.
    """
    wide = x.dtype == np.float64
    # x clipped, in float64: in out's buffer where it is the float64 result's (written last)
    mine = out is not None and times and wide and out.shape == x.shape and out.dtype == np.float64
    xc = x.clip(-40.0, 40.0, out=out if mine else np.empty(x.shape, np.float64))  # the gate is 0 or 1 beyond
    # sigmoid(t) with t rounded in plain float64 is off by (1 - s)*|t|*~5e-16 relatively: far beyond
    # float32 (result left in float64), and below a float64 ULP for t >= -1/4; only float64 input with
    # t < -1/4 needs t in double-double. Buffers are reused once dead (peak memory sets the blocks' size)
    r = _gelu_tanh_arg_plain(xc)
    far = np.flatnonzero(r < -0.25) if wide else ()
    rf = r.take(far) if len(far) else None
    e = np.abs(r, out=None if wide else xc)  # float32: xc is dead (x is clipped again below)
    np.negative(e, out=e)
    np.exp(e, out=e)
    g = np.maximum(e, r >= 0.0, out=r)
    e += 1.0
    g /= e
    del e, r
    if len(far):
        xf = xc.take(far)
        hi, re, x2 = _gelu_tanh_arg(xf)
        del xf, x2
        np.subtract(hi, rf, out=hi)
        hi += re  # t - r
        del re
        s = g.take(far)  # sigmoid(r) at the plain r; t = r + ((hi - r) + re), to first order:
        c = np.subtract(1.0, s)  # s += s*(1 - s)*hi; 1 - s is exact enough here (s < 0.44)
        np.multiply(s, c, out=c)
        c *= hi
        s += c
        del c
        _put(g, far, s)
        del s
    if not times:
        return g
    if wide:  # xc is dead (out's own buffer where mine): x clipped at -40 only takes its place
        out = np.multiply(g, x.clip(-40.0, np.inf, out=xc), out=out)
    else:  # float32: the float64 product in xc's buffer, then rounded once into out (a float32 out in
        # the ufunc would cast through buffers of its own, which at 10^5 elements set the peak)
        xc[...] = x
        xc.clip(-40.0, np.inf, out=xc)
        np.multiply(g, xc, out=xc)
        if out is None:
            return xc
        np.copyto(out, xc, casting="same_kind")
    if len(far):
        tail = np.flatnonzero(rf < -700.0)
        if tail.size:
            v = _exp_mul(rf.take(tail), 1.0, 64)  # e*2**64 (1 - s = 1 here)
            hi = hi.take(tail)
            hi += 1.0
            v *= hi
            v *= x.take(far.take(tail)).clip(-40.0, 40.0)
            v *= 5.421010862427522e-20  # 2**-64: one rounding, into the subnormals where the result is
            _put(out, far.take(tail), v)
    return out


def _gelu_tanh_xgate(x, out=None):
    """x times the tanh-GELU gate: the tanh-GELU itself (see _gelu_tanh_gate)."""
    return _gelu_tanh_gate(x, True, out)


def _gelu_tanh_slope(x, pair=False, out=None):
    """d/dx of x*gate(x), the tanh-GELU's derivative: sigmoid(t) + x*sigmoid(t)*sigmoid(-t)*t'(x).

    One double-double argument t = r + re for both terms. With e = exp(-|r|), 1 + e = d + de (carried),
    s = sigmoid(r) = m/(1 + e) (m = e for r < 0, else 1) and g = s*(1 - s) = e/(1 + e)**2, to first order
    in re: sigmoid(t) = s + g*re and g(t) = g*(1 + (1 - 2s)*re), so that the derivative is one quotient,
    m*(d + de + w*Y)/(d + de)**2 with w = e/m and Y = X + re*(1 + (1 - 2s)*X), X = x*t'(x) = t + 2*C3*x**3
    (C3 = 0.044715*2*sqrt(2/pi); t carried, the cube's term 5% of X at the zero, 12% at x = -1.3): the sum
    s + g*X cancelled beyond the zero's Taylor patch (9 ULP at x = -1.27), d + w*X only near the zero.
    Where r < -700, e is subnormal or near it while the result (~2000 e at x = -21.2) is still normal:
    there (d = 1, s = g = e) it is e*(1 + re)*(1 + X) from e*2**64 (_exp_mul), scaled back once at the
    end. x beyond +-40 is taken as +-40: the result is exactly 0 or 1 there, and inf*0 is never formed.
    pair: (x*sigmoid(t), the derivative), the first from the same s, g, re (into out, as a ufunc's).
    """
    xc = x.clip(-40.0, 40.0, out=np.empty(x.shape, np.float64))  # buffers are reused once dead (the peak
    # memory sets the blocks' size)
    if x.dtype == np.float32:  # plain float64 is far beyond float32 (see _gelu_tanh_gate)
        r, x2 = _gelu_tanh_arg_plain(xc), xc * xc
    else:
        r, re, x2 = _gelu_tanh_arg(xc)
    if x.dtype == np.float32:
        e = np.abs(r)
        np.negative(e, out=e)
        np.exp(e, out=e)
        d = 1.0 + e
        inv = np.true_divide(1.0, d, out=d)
        s = np.maximum(e, r >= 0.0, out=r)  # e^min(r, 0), branch-free
        s *= inv  # sigmoid(r)
        g = np.multiply(e, inv, out=e)
        g *= inv  # sigmoid(r)*sigmoid(-r)
        del inv, d, e, r
        xdt = np.multiply(x2, 0.134145, out=x2)
        xdt += 1.0
        xdt *= 1.5957691216057308
        xdt *= xc  # x t'(x)
        if pair:  # the float64 product in xc's buffer, rounded once into out (as _gelu_tanh_gate's)
            xc[...] = x
            xc.clip(-40.0, np.inf, out=xc)
            np.multiply(s, xc, out=xc)
            if out is None:
                out = xc
            else:
                np.copyto(out, xc, casting="same_kind")
        xdt *= g
        xdt += s
        return (out, xdt) if pair else xdt
    # X = t + 2*C3*x**3 = xh + xe (t = r + re; the second term, small where the derivative cancels, in double)
    xe = np.multiply(x2, xc, out=x2)
    xe *= 0.1427096325452005  # 2*C3
    xe += re
    e = np.abs(r, out=xc)  # xc is dead (the tail clips x anew)
    np.negative(e, out=e)
    np.exp(e, out=e)
    d = 1.0 + e
    inv = 1.0 / d
    m = np.maximum(e, r >= 0.0)  # e^min(r, 0), branch-free
    s = m * inv  # sigmoid(r) = m/d
    if pair:  # x*(s + g*re): the gate to first order in re
        out = np.multiply(e, inv, out=out)
        out *= inv  # g
        out *= re
        out += s
        out *= x.clip(-40.0, np.inf)
    xh = r
    # Y - xh = xe + re*(1 + (1 - 2s)*X)
    c = np.multiply(s, -2.0, out=s)
    c += 1.0
    c *= xh + xe
    c += 1.0
    c *= re
    c += xe
    de = np.subtract(d, 1.0, out=inv)
    np.subtract(e, de, out=de)  # exact (Fast2Sum: 1 >= e)
    w = np.maximum(e, r < 0.0, out=e)  # e/m
    c *= w
    c += de
    np.multiply(w, xh, out=w)
    w += d
    w += c  # d + de + w*Y
    del c
    w *= m
    w /= d
    w /= d
    de /= d
    de *= -2.0
    de += 1.0  # 1/(d + de)**2 = (1 - 2 de/d)/d**2 to first order
    w *= de
    tail = np.flatnonzero(r < -700.0)
    if tail.size:
        v = _exp_mul(r.take(tail), 1.0, 64)  # e*2**64, normal
        v *= 1.0 + re.take(tail)
        if pair:  # x*e*(1 + re), from e*2**64 too
            _put(out, tail, v * x.take(tail).clip(-40.0, 40.0) * 5.421010862427522e-20)
        v *= 1.0 + (xh.take(tail) + xe.take(tail))
        v *= 5.421010862427522e-20  # 2**-64: one rounding, into the subnormals where the result is
        _put(w, tail, v)
    return (out, w) if pair else w


def _gelu_tanh_pair(x, out=None):
    """(tanh-GELU, its derivative) from one double-double argument (see _gelu_tanh_slope)."""
    return _gelu_tanh_slope(x, True, out)


def _x_minus_tanh(x):
    """x - tanh(x): x**3 P(x**2) where |x| < 0.8 and the difference cancels (P: symact.codegen.tanh_fit).

    float32 input: float32 tanh where |x| >= 1.6, below it x**3 Q(x**2) in float64 (Q: tanh_fit's
    float32 fit on |x| < 1.6), rounded once.
    """
    coeffs = (
        0.3333333333333333, -0.13333333333333156, 0.05396825396807276, -0.021869488528862377,
        0.008863235376274077, -0.0035921260909037335, 0.0014558183493366924, -0.0005899371544849776,
        0.00023877177686581664, -9.590580074661439e-05, 3.723351759986434e-05, -1.2965969286746461e-05,
        3.451065152173475e-06, -4.967418898612298e-07,
    )
    coeffs32 = (
        0.3333333327497496, -0.13333326744364285, 0.05396700481576665, -0.021860068587459293,
        0.008825842220355729, -0.0035023607698391962, 0.001314352857207198, -0.00043523843721632517,
        0.0001161244884275729, -2.244297365166288e-05, 2.717949001649896e-06, -1.5245907052288783e-07,
    )

    def cubed_poly(w, cs):
        """w**3 P(w**2), P's coefficients cs lowest first, by Horner's rule (-0.0 stays -0.0)."""
        z = np.multiply(w, w)
        acc = np.multiply(z, cs[-1])
        for c in cs[-2::-1]:
            acc += c
            acc *= z
        acc *= w
        return acc

    if x.dtype == np.float32:
        # NumPy's float32 tanh (within an ULP) where |x| >= 1.6: there x - tanh(x) >= 0.678 and the
        # subtraction is exact, so within an ULP. Below, on those elements only, the polynomial in
        # float64 (within 0.03 ULP of float32 before its one rounding)
        out = np.tanh(x)
        np.subtract(x, out, out=out)
        near = np.flatnonzero(~(np.abs(x) >= 1.6))  # NaN included
        if near.size:
            _put(out, near, cubed_poly(x.take(near).astype(np.float64), coeffs32))
        return out
    w = _wide(x)
    out = np.tanh(w)
    np.subtract(w, out, out=out)
    near = np.flatnonzero(np.abs(w) < 0.8)
    if near.size:
        _put(out, near, cubed_poly(w.take(near), coeffs))
    return out.astype(x.dtype, copy=False)


def _sin(x):
    """sin(x); sin(+-inf) has no limit and is NaN, without a warning."""
    with np.errstate(invalid="ignore"):
        return np.sin(x)


def _cos(x):
    """cos(x); cos(+-inf) has no limit and is NaN, without a warning."""
    with np.errstate(invalid="ignore"):
        return np.cos(x)


def _sinc(x):
    """sin(x)/x with sinc(0) = 1 and sinc(+-inf) = 0."""
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 and sin(inf) are replaced below
        out = np.sin(x)
        out /= x
    if not np.isnan(np.add.reduce(out, axis=None)):  # |out| <= 1: NaN only from 0, +-inf or NaN in x
        return out
    zeros = np.flatnonzero(x == 0)
    _put(out, zeros, 1.0)
    infs = np.flatnonzero(np.isinf(x))
    _put(out, infs, 0.0)
    return out


def _sinc_grad(x):
    """d/dx sin(x)/x = (cos x - sin(x)/x)/x; Taylor series for |x| < 1.1; 0 at 0 and at +-inf.

    The difference cancels near the zeros (tan x = x): the module's Taylor patches hold them for
    |x| < 21; beyond, float64 elements where |x sinc'(x)| < 1/16 (about 4% of them; elsewhere this form is
    within 5 ULP) are computed by _sinc_grad_far, which carries the cancellation in its argument (it
    was 3e13 ULP off at the float nearest the zero at x = -29.81). float32 input is computed in float64
    and keeps its digits (0 ULP at those points), its sine and cosine from one reduction and their
    polynomials (_sinc_grad_single) rather than libm's.
    """
    # (-1)**k 2k/(2k + 1)!, the coefficients of x**(2k - 1), k = 1..11: below 2**-56 of the first term for |x| < 1.1
    coeffs = (
        -0.3333333333333333, 0.03333333333333333, -0.0011904761904761906, 2.2045855379188714e-05,
        -2.505210838544172e-07, 1.9270852604185937e-09, -1.0706029224547743e-11, 4.498331606952833e-14,
        -1.4797143443923793e-16, 3.9145882126782523e-19, -8.509974375387505e-22,
    )
    w = _wide(x)
    with np.errstate(invalid="ignore", divide="ignore"):  # x = 0 and +-inf are replaced below
        if x.dtype == np.float32:
            out = _sinc_grad_single(w)
        else:
            out = np.sin(w)
            out /= w
            np.subtract(np.cos(w), out, out=out)
            out /= w
    a = np.abs(w)
    near = np.flatnonzero(a < 1.1)  # below, the difference cancels (14 ULP at x = 0.53 with 0.5 here)
    if near.size:
        xs = w.take(near)
        z = xs * xs
        acc = np.full_like(z, coeffs[-1])
        for c in coeffs[-2::-1]:
            acc *= z
            acc += c
        acc *= xs
        _put(out, near, acc)
    beyond = np.flatnonzero(a > 21.0) if x.dtype == np.float64 else ()
    if len(beyond):  # near a zero beyond the patches (|x cos(x + atan(1/x))| < 1/16): _sinc_grad_far
        xs = w.take(beyond)
        xs[np.isinf(xs)] = 0.0
        close = np.flatnonzero(np.abs(out.take(beyond) * xs) < 0.0625)
        _put(out, beyond.take(close), _sinc_grad_far(xs.take(close)))
    far = np.flatnonzero(np.isinf(w))
    if far.size:
        _put(out, far, 0.0)
    return out.astype(x.dtype, copy=False)


def _sinc_grad_single(w):
    """(cos w - sin(w)/w)/w for float32 w, as float64 (errors of 0 and +-inf: the caller's to replace).

    One reduction for both functions, as in _sin_single: m = rint(w/pi), r = w - m*pi (_minus_k_pi: pi in
    three pieces, exact products for |m| < 2**25, |w| < 2**26), so cos w - sin(w)/w =
    (-1)**m (cos r - sin(r)/w) with |r| <= pi/2, where the Taylor polynomials of sin to r**17 and cos to
    r**18 are within 4.4e-14 and 3.5e-15 absolutely; instead of libm's float64 sin and cos (~15-20 ns
    each). Where the difference is below 2**-14 (it cancels near the zeros of the derivative, beyond
    what those errors allow: 3e-9 relative at 2**-14, 0.05 float32 ULP) and where |w| >= 2**25: libm.
    """
    whole = not w.size or (w.min() > -33554432.0 and w.max() < 33554432.0)  # False for NaN
    wr = w if whole else w.clip(-33554432.0, 33554432.0)  # huge |w|: libm below (no overflow on the way)
    k = np.multiply(wr, 0.3183098861837907)
    k += 0.0  # -0.0 becomes +0.0, so that w = -0.0 keeps its sign in w - k*P1
    np.rint(k, out=k)
    r, t = _minus_k_pi(wr, k)
    z = np.multiply(r, r, out=t)
    s = np.multiply(z, 2.8114572543455206e-15)  # sin r = r (1 + z (-1/3! + z (1/5! - ...))), z = r**2
    for c in (-7.647163731819816e-13, 1.6059043836821613e-10, -2.505210838544172e-08, 2.7557319223985893e-06,
              -0.0001984126984126984, 0.008333333333333333, -0.16666666666666666):
        s += c
        s *= z
    s += 1.0
    s *= r
    s /= w  # sin(r)/w
    c = np.multiply(z, -1.5619206968586225e-16, out=r)  # cos r = 1 + z (-1/2! + z (1/4! - ...))
    for coeff in (4.779477332387385e-14, -1.1470745597729725e-11, 2.08767569878681e-09, -2.755731922398589e-07,
                  2.48015873015873e-05, -0.001388888888888889, 0.041666666666666664, -0.5):
        c += coeff
        c *= z
    c += 1.0
    c -= s  # cos r - sin(r)/w
    n = k.astype(np.int64)  # m (NaN and +-inf: any value, their results are NaN)
    np.left_shift(n, 63, out=n)  # m's parity bit as the sign bit
    u = c.view(np.int64)
    np.bitwise_xor(u, n, out=u)  # (-1)**m (cos r - sin(r)/w)
    bad = np.flatnonzero(np.less(np.abs(c, out=z), 2.0**-14))
    if not whole:  # huge |w| (or NaN): not reduced exactly
        bad = np.union1d(bad, np.flatnonzero(np.logical_not(np.abs(w) < 33554432.0)))
    if bad.size:
        ws = w.take(bad)
        v = np.sin(ws)
        v /= ws
        np.subtract(np.cos(ws), v, out=v)
        _put(c, bad, v)
    c /= w
    return c


def _patch_cells(rows, width, check=False):
    """(start, cells) for _taylor_patches: cells[k] the row whose patch [zero_hi - radius, zero_hi + radius]
    may hold an element of cell k, [start + (k-1) width, start + k width); -1 for none, 0-based rows.

    Each patch is widened by 2**-40 of its ends' magnitude and by one cell on each side, far beyond the
    rounding of d and of an element's cell index. cells[0] (all below start) and cells[-1] (all from
    start + (len(cells) - 2) width on) meet none. check: None where two rows would share a cell.
    """
    import math
    los = [row[0] - row[2] for row in rows]
    his = [row[0] + row[2] for row in rows]
    start = (math.floor(min(los) / width) - 3.0) * width
    cells = np.full(math.ceil((max(his) - start) / width) + 4, -1, np.int16)
    for i, (lo, hi) in enumerate(zip(los, his)):
        margin = 2.0 ** -40 * max(abs(lo), abs(hi))
        first = math.floor((lo - margin - start) / width)  # the cell of lo - margin, less one
        last = math.floor((hi + margin - start) / width) + 2  # the cell of hi + margin, plus one
        if check and (cells[first:last + 1] != -1).any():
            return None
        cells[first:last + 1] = i
    return start, cells


def _taylor_patches(r, x, single, width, rows):
    """r overwritten near each zero of `rows` by the zero's Taylor polynomial (symact.codegen.patches).

    A row is (zero_hi, zero_lo, radius, n32, (c_n, ..., c_1)): where |d| < radius, d = (x - zero_hi) - zero_lo,
    r = (...(c_n d + c_n-1) d + ...) d, with its last n32 coefficients for float32 input. One pass over x
    finds the elements that may lie in a patch, by their cell of `width` (_patch_cells); the test on d
    then decides, so the cell of an infinite, NaN or huge element (its index cast, which has no value,
    then clipped) can be any. The rows' polynomials run as one table, the shorter ones led by zeros
    (0 d + c_n = c_n exactly: the same bits as each row's own Horner loop).
    """
    start, cells = _patch_cells(rows, width)
    with np.errstate(over="ignore", invalid="ignore"):  # inf, NaN and huge elements: see above
        t = np.multiply(x, 1.0 / width)
        t += 1.0 - start / width
        at = t.astype(np.intp)
    del t
    slot = cells.take(at, mode="clip")
    del at
    cand = np.flatnonzero(slot >= 0)
    if not cand.size:
        return r
    k = slot.take(cand)
    d = x.take(cand)
    d -= np.array([row[0] for row in rows]).take(k)
    d -= np.array([row[1] for row in rows]).take(k)
    inside = np.flatnonzero(np.abs(d) < np.array([row[2] for row in rows]).take(k))
    if not inside.size:
        return r
    near, k, d = cand.take(inside), k.take(inside), d.take(inside)
    polys = [row[4][-row[3]:] if single else row[4] for row in rows]
    columns = max(len(p) for p in polys)
    table = np.array([(0.0,) * (columns - len(p)) + tuple(p) for p in polys])
    acc = np.multiply(d, table[:, 0].take(k))
    for j in range(1, columns):
        acc += table[:, j].take(k)
        acc *= d
    _put(r, near, acc)
    return r


def _dd_mul(ah, al, bh, bl):
    """(ah + al)*(bh + bl) as a double-double (hi, lo), to ~2**-104 relatively (the al*bl term dropped)."""
    p = ah * bh
    e = _two_prod_err(ah, bh, p)
    e += ah * bl
    e += al * bh
    hi = p + e
    return hi, e - (hi - p)


def _dd_add(ah, al, bh, bl):
    """(ah + al) + (bh + bl) as a double-double (hi, lo)."""
    s = ah + bh
    e = _two_sum_err(ah, bh, s)
    e += al
    e += bl
    hi = s + e
    return hi, e - (hi - s)


def _sinc_grad_far(x):
    """d/dx sin(x)/x for float64 |x| > 21, x finite: sign(x) u sqrt(1 + u**2) cos(|x| + atan(u)), u = 1/|x|.

    For x > 0, x cos x - sin x = sqrt(1 + x**2) cos(x + atan(1/x)), so the cancellation near the zeros
    (tan x = x) is moved into the argument. That argument is carried beyond double precision:
    atan(u) as a double-double (its series to u**25, the five leading terms in double-double, so
    to ~2**-102 relatively), |x| + pi/2 + atan(u) reduced by k*pi with pi in four pieces
    (Cody-Waite; for |x| >= 2**26, x first reduced modulo 2*pi in integers, _reduce_2pi), every rounding
    error kept in a second part (Knuth's two-sum); then cos(|x| + atan(u)) = (-1)**k sin(t) for the
    reduced t = t_hi + t_lo. Measured: within 3 ULP at random |x| up to 1e300 and at the floats nearest
    the zeros (tests/test_accuracy.py).
    """
    ax = np.abs(x)
    with np.errstate(under="ignore"):  # |x| near the largest float: u is subnormal
        u = np.divide(1.0, ax)
    small = ax.clip(-np.inf, 2.0**60)  # the double-double atan below 2**60 (beyond: atan u = u to 2**-120)
    q = np.divide(1.0, small)
    p = small * q
    u_lo = (1.0 - p) - _two_prod_err(small, q, p)  # 1 - small*q exactly (1 - p is exact: Sterbenz)
    u_lo /= small
    z_hi = q * q
    z_lo = _two_prod_err(q, q, z_hi)
    z_lo += 2.0 * q * u_lo
    # S(z) = 1/3 - z/5 + z**2/7 - ...: the terms from z**5 on in double, then Horner in double-double
    acc = np.full_like(z_hi, -1.0 / 25.0)
    for c in (1.0 / 23.0, -1.0 / 21.0, 1.0 / 19.0, -1.0 / 17.0, 1.0 / 15.0, -1.0 / 13.0):
        acc *= z_hi
        acc += c
    acc_lo = np.zeros_like(acc)
    for c_hi, c_lo in ((0.09090909090909091, -2.523234146875356e-18), (-0.1111111111111111, -6.1679056923619804e-18),
                       (0.14285714285714285, 7.93016446160826e-18), (-0.2, 1.1102230246251566e-17),
                       (0.3333333333333333, 1.850371707708594e-17)):
        acc, acc_lo = _dd_mul(acc, acc_lo, z_hi, z_lo)
        acc, acc_lo = _dd_add(acc, acc_lo, c_hi, c_lo)
    acc, acc_lo = _dd_mul(acc, acc_lo, z_hi, z_lo)
    acc, acc_lo = _dd_mul(acc, acc_lo, q, u_lo)  # u**3 S(u**2)
    d_hi, d_lo = _dd_add(q, u_lo, -acc, -acc_lo)  # atan(u) = u - u**3 S(u**2)
    beyond = np.flatnonzero(ax > 2.0**60)
    _put(d_hi, beyond, u.take(beyond))
    _put(d_lo, beyond, 0.0)
    huge = np.flatnonzero(ax >= 67108864.0)
    r0 = ax.copy()
    e = np.zeros_like(ax)
    if huge.size:
        ph, eh = _reduce_2pi(ax.take(huge), 1.0)
        _put(r0, huge, ph)
        _put(e, huge, eh)
    # k = rint((r0 + pi/2 + atan u)/pi); t = r0 - k*(P1 + P2 + P3 + P4) + pi/2 + atan u, pi/2 = H1 + H2 + H3:
    # the products by P1, P2, P3 (of 25, 24 and 26 bits, k < 2**25) exact; near a zero each sum of the
    # chain is exact (Sterbenz) and its others' rounding errors are kept in lo
    k = np.rint((r0 + 1.5707963267948966 + d_hi) * 0.3183098861837907)
    lo = e - 1.4973849048591698e-33  # H3
    lo -= k * 1.27366343270219e-24  # P4
    t = r0
    for b in (-k * 3.1415926218032837, 1.5707963267948966, d_hi, -k * 3.1786509424591713e-08,
              -k * 1.2246467864107189e-16, 6.123233995736766e-17, d_lo):
        s = t + b
        lo += _two_sum_err(t, b, s)
        t = s
    t_hi = t + lo
    t_lo = _two_sum_err(t, lo, t_hi)
    out = np.sin(t_hi)
    out += np.cos(t_hi) * t_lo
    k *= 0.5
    k -= np.floor(k)
    k *= -4.0
    k += 1.0  # (-1)**k
    out *= k
    out *= np.hypot(1.0, u)
    with np.errstate(under="ignore"):  # |x| near the largest float: the result is subnormal
        out *= np.copysign(u, x)
    return out


def _reduce_2pi(w, a):
    """(p, e) float64 arrays with p + e = a*w - 2*pi*n, n the integer leaving |p| <= pi, to ~2**-116.

    Exact integer arithmetic per element (Payne-Hanek with 2400 bits of 1/(2*pi)): a*w = M/2**s exactly,
    its fraction of a turn from M*floor(2**2400/(2*pi)) (off by less than M/2**(s + 2400) turns), kept to
    128 bits, centred and times 2*pi; a*w may exceed the largest float. For the rare elements with
    |a*w| >= 2**26 (a few microseconds each); NaN where w is infinite or NaN.
    """
    # floor(2**2400/(2*pi)) and round(2*pi*2**128)
    inv_2pi = int(
        "28be60db9391054a7f09d5f47d4d377036d8a5664f10e4107f9458eaf7aef1586dc91b8e909374b801924bba82746487"
        "3f877ac72c4a69cfba208d7d4baed1213a671c09ad17df904e64758e60d4ce7d272117e2ef7e4a0ec7fe25fff7816603"
        "fbcbc462d6829b47db4d9fb3c9f2c26dd3d18fd9a797fa8b5d49eeb1faf97c5ecf41ce7de294a4ba9afed7ec47e35742"
        "1580cc11bf1edaeafc33ef0826bd0d876a78e45857b986c219666157c5281a10237ff620135cc9cc41818555b29cea32"
        "58389ef0231ad1f10670d9f3773a024aa0d6711da2e58729b76bd13455c6414fa97fc1c14fdf8cfa0cb0b793e60c9f6e"
        "f0cf49bbdac797be27ce87cd72bc9fc761fc48641f1f091abe9bb55dcb4c10cec571852d674670f0b12b50534b174003"
        "119f618b5c78e6b1a6c0188c", 16)
    two_pi = 0x6487ed5110b4611a62633145c06e0e689
    na, da = a.as_integer_ratio()
    ps, es = [], []
    for v in w.tolist():
        if v - v != 0.0:  # +-inf or NaN
            ps.append(float("nan"))
            es.append(0.0)
            continue
        nv, dv = v.as_integer_ratio()
        m, s = na * nv, (da * dv).bit_length() - 1  # denominators: powers of two
        t = ((m * inv_2pi) >> (s + 2400 - 128)) & ((1 << 128) - 1)  # turns, 128 fraction bits
        if t >> 127:
            t -= 1 << 128  # centred: [-1/2, 1/2) turn
        r = t * two_pi  # the reduced argument times 2**256
        p = r / (1 << 256)  # correctly rounded (Python's integer division)
        n, d = p.as_integer_ratio()
        ps.append(p)
        es.append((r * d - (n << 256)) / (d << 256))
    return np.array(ps, np.float64), np.array(es, np.float64)


def _minus_k_pi(w, k, out=None):
    """(w - k*pi, a float64 buffer of w's shape for reuse), pi in three pieces of at most 25 bits
    (Cody-Waite): each k*P exact for |k| < 2**25, and the first difference exact wherever the result is
    small (Sterbenz), so the result is good to ~1e-25 absolutely. out: where the result goes (w itself too).
    """
    t = np.multiply(k, 3.1415926218032837)
    out = np.subtract(w, t, out=out)
    out -= np.multiply(k, 3.1786509424591713e-08, out=t)
    out -= np.multiply(k, 1.2246467991473532e-16, out=t)
    return out, t


def _sin_single(x, a, c, lean, wide=False):
    """sin(a*x + c*pi) for float32 x and a, c in {0, 1/4, 1/2}, |a*x| < 2**26, as float32 (wide, not lean:
    the polynomial's float64 value, for a sum that cancels after it and is rounded once).

    a*x is exact in float64; m = rint(a*x/pi + c) and r = a*x - (m - c)*pi with pi in three pieces
    of at most 25 bits (each (m - c)*P exact; the first subtraction exact wherever r is small, by
    Sterbenz), so r is good to ~1e-25 absolutely; sin(a*x + c*pi) = (-1)**m sin(r) with |r| <= pi/2,
    where sin's condition number is at most 1. sin(r) from its Taylor polynomial to r**15 in float64
    (relative error < (pi/2)**17/17! = 6.1e-12, then rounded once: within 0.5 ULP but for rare
    near-ties), or, lean, NumPy's float32 SIMD sin of r rounded to float32 (within 1 ULP of the correctly
    rounded value; measured 1.45 ULP from the exact one); both instead of libm's float64 sin (~15-20 ns).
    """
    w = x.astype(np.float64)
    w *= a
    k = np.multiply(w, 0.3183098861837907)
    k += c  # c = 0.0 too: -0.0 becomes +0.0, so that a*x = -0.0 keeps its sign in w - k*P1
    np.rint(k, out=k)
    if c:
        k -= c
    w, t = _minus_k_pi(w, k, w)
    if lean:
        del t  # buffers released as soon as they are done with: three float64 ones at most
    if c:
        k += c
    n = k.astype(np.int32)  # m, |m| < 2**25
    del k
    with np.errstate(under="ignore"):  # subnormal results (r rounded to float32, its float32 sin)
        if lean:
            y = w.astype(np.float32)
            del w
            np.sin(y, out=y)
        else:
            z = np.multiply(w, w, out=t)
            acc = np.multiply(z, -7.647163731819816e-13)
            for coeff in (1.6059043836821613e-10, -2.505210838544172e-08, 2.7557319223985893e-06,
                          -0.0001984126984126984, 0.008333333333333333):
                acc += coeff
                acc *= z
            acc += -0.16666666666666666
            acc *= z
            acc += 1.0
            w *= acc  # r*(1 + z*P(z)): -0.0 stays -0.0
            del z, acc
            if wide:  # (-1)**m in float64
                np.bitwise_and(n, 1, out=n)
                sign = n.astype(np.float64)
                sign *= -2.0
                sign += 1.0
                w *= sign
                return w
            y = w.astype(np.float32)
    np.left_shift(n, 31, out=n)  # m's parity bit as the sign bit
    u = y.view(np.int32)
    np.bitwise_xor(u, n, out=u)
    return y


def _sin_affine(x, a, b_hi, b_lo, lean=False, wide=False):
    """sin(a*x + b), b = b_hi + b_lo: _sin_single for float32 x and a, b = 0, pi/4 or pi/2, where |a*x| <
    2**26 (lean where a result within 1 ULP is enough: it is not cancelled later; wide where a later sum
    cancels: float64 results), _sin_affine_exact for the rest. Each element's path depends on its value
    alone (an element gives the same bits in any array).
    """
    if x.dtype == np.float32 and float(np.float32(a)) == a and a:
        c = {(0.0, 0.0): 0.0, (0.7853981633974483, 3.061616997868383e-17): 0.25,
             (1.5707963267948966, 6.123233995736766e-17): 0.5}.get((b_hi, b_lo))  # b = c*pi
        if c is not None:
            bound = 67108864.0 / abs(a)
            if bound > 3.4028234663852886e38:  # every float32 x (and no overflow casting bound to float32)
                bound = np.inf
            if x.size == 0 or (x.min() > -bound and x.max() < bound):  # False for NaN
                return _sin_single(x, a, c, lean, wide)
            far = np.flatnonzero(np.logical_not(np.abs(x) < bound))  # rare: huge, +-inf, NaN
            xs = x.copy()
            _put(xs, far, 0.0)
            out = _sin_single(xs, a, c, lean, wide)
            _put(out, far, _sin_affine_exact(x.take(far), a, b_hi, b_lo))
            return out
    return _sin_affine_exact(x, a, b_hi, b_lo)


def _sin_affine_exact(x, a, b_hi, b_lo):
    """sin(a*x + b), b = b_hi + b_lo, with the argument carried beyond double precision.

    |a*x + b| < 2**26: the product a*x is split exactly (Dekker) and reduced by k*pi with pi in three
    pieces (Cody-Waite), so the reduced argument is good to ~1e-24 and sin near its zeros keeps its
    digits. Larger arguments (rare): a*x reduced modulo 2*pi exactly in integers (_reduce_2pi), then
    the same path. sin(+-inf) is NaN (no limit). No floating-point warning. In place: six or seven
    buffers. Float32 x and a with b = 0 or pi/2: libm's float64 sin or cos of the exact a*x, rounded once.
    """
    if x.dtype == np.float32 and float(np.float32(a)) == a and b_lo in (0.0, 6.123233995736766e-17):
        if (b_hi == 0.0 and b_lo == 0.0) or b_hi == 1.5707963267948966:
            w = x.astype(np.float64)
            w *= a
            with np.errstate(invalid="ignore"):
                (np.sin if b_hi == 0.0 else np.cos)(w, out=w)
            return w.astype(np.float32)
    w = _wide(x)
    with np.errstate(invalid="ignore", over="ignore"):
        p = np.multiply(a, w)
        t = np.add(p, b_hi)
        np.abs(t, out=t)
        big = np.less(t, 67108864.0)
    far = np.flatnonzero(np.logical_not(big, out=big))  # rare: huge arguments, +-inf, NaN
    del big
    ws = w
    if far.size:
        ws = w.copy()
        _put(ws, far, 0.0)
        np.multiply(a, ws, out=p)
    # e = a*ws - p exactly (Dekker's product; a is split once)
    sa = a
    if abs(a) < 2.0**-900:  # then |ws| may reach 2**996, where 134217729*ws overflows: a*ws as (a*2**100)*(ws/2**100)
        with np.errstate(under="ignore"):  # ws/2**100 inexact only where a*ws is 0 anyway
            ws = np.multiply(ws, 2.0**-100)
        sa = a * 2.0**100
    c = 134217729.0 * sa
    ah = c - (c - sa)
    al = sa - ah
    np.multiply(134217729.0, ws, out=t)
    bh = np.subtract(t, ws)
    np.subtract(t, bh, out=bh)  # ws's high half
    bl = np.subtract(ws, bh, out=t)  # and its low half
    e = np.multiply(ah, bh)
    e -= p
    if al:
        u = np.multiply(ah, bl)
        e += u
        e += np.multiply(al, bh, out=u)
        e += np.multiply(al, bl, out=u)
    else:
        e += np.multiply(ah, bl, out=bh)
    if far.size:  # a*x = p + e modulo 2*pi, |p| <= pi
        pf, ef = _reduce_2pi(w.take(far), a)
        _put(p, far, pf)
        _put(e, far, ef)
    # k = rint((p + b)/pi); r = p - k*P1 (k*P1 is exact): exact where |r| <= |p| (Sterbenz), so always
    # for b = 0; with b (k = 1 for p in (0, pi/2) at b = pi/2) not, and its rounding error joins e
    k = np.add(p, b_hi, out=bh)
    k *= 0.3183098861837907
    np.rint(k, out=k)
    np.multiply(k, 3.1415926218032837, out=t)
    if b_hi:  # r = p - k*P1, then s1 = r + b_hi with its rounding error lo (each by Knuth's two-sum)
        r = np.subtract(p, t)
        u = np.subtract(r, p)  # the part of r from p
        v = np.subtract(r, u)
        np.subtract(p, v, out=v)  # p's share of the error
        np.add(t, u, out=u)
        v -= u  # ... and -t's
        e += v
        s1 = np.add(r, b_hi, out=t)
        bb = np.subtract(s1, r)
        lo = np.subtract(s1, bb)
        np.subtract(r, lo, out=lo)
        np.subtract(b_hi, bb, out=bb)
        lo += bb
        spare, s2 = r, bb
    else:
        np.subtract(p, t, out=p)
        s1, lo, spare, s2 = p, None, t, None
    # s2 = s1 - t2, t2 = k*P2 exact (26-bit piece, |k| < 2**25); its rounding error joins lo
    t2 = np.multiply(k, 3.1786509424591713e-08, out=spare)
    s2 = np.subtract(s1, t2, out=s2)
    bb = np.subtract(s2, s1)
    t2 += bb
    np.subtract(s2, bb, out=bb)
    s1 -= bb
    s1 -= t2  # (s1 - (s2 - bb)) + (-t2 - bb)
    if b_lo:
        e += b_lo
    e -= np.multiply(k, 1.2246467991473532e-16, out=bb)
    if lo is None:
        lo = s1
    else:
        lo += s1
    lo += e
    # sin(s2 + lo) = sin(s2) + cos(s2)*lo with |lo| < 1e-8 (below 2**26): cos(s2), |s2| <= pi/2, from its
    # Taylor polynomial to s2**16 (error < 1e-12, so < 1e-20 after the product) instead of a second libm call
    z = np.multiply(s2, s2, out=t2)
    c = np.multiply(z, 4.779477332387385e-14, out=bb)
    c += -1.1470745597729725e-11
    for coeff in (2.08767569878681e-09, -2.755731922398589e-07, 2.48015873015873e-05, -0.001388888888888889, 0.041666666666666664, -0.5, 1.0):
        c *= z
        c += coeff
    c *= lo
    c += np.sin(s2, out=z)
    k *= 0.5
    k -= np.floor(k, out=z)
    k *= -4.0
    k += 1.0
    c *= k  # (-1)**k
    out = c
    if b_hi == 0.0 and b_lo == 0.0:
        zeros = np.flatnonzero(w == 0.0)  # sin(a*(-0.0)) keeps the sign of zero
        _put(out, zeros, w.take(zeros) * np.copysign(1.0, a))
    return out.astype(x.dtype, copy=False)


def _gammainc2(v):
    """1 - (1 + v)*exp(-v) for v >= 0 (the regularized incomplete gamma P(2, v)).

    Taylor series below 1, where the two terms cancel; directly above.
    """
    coeffs = (
        0.5, -0.3333333333333333, 0.125, -0.03333333333333333, 0.006944444444444444, -0.0011904761904761906,
        0.00017361111111111112, -2.2045855379188714e-05, 2.48015873015873e-06, -2.505210838544172e-07,
        2.296443268665491e-08, -1.9270852604185937e-09, 1.4911969277048643e-10, -1.0706029224547743e-11,
        7.169215998581078e-13, -4.498331606952833e-14, 2.6552651846596585e-15, -1.4797143443923793e-16,
        7.809603484293113e-18,
    )
    w = _wide(v)
    vc = w.clip(0.0, 800.0, out=np.empty(w.shape, np.float64))  # exp(-v) underflows beyond 745
    np.negative(vc, out=vc)
    out = np.expm1(vc)
    e = np.exp(vc)
    e *= vc
    out -= e
    np.negative(out, out=out)  # -expm1(-v) - v*exp(-v)
    near = np.flatnonzero(w < 1.0)
    if near.size:
        vs = w.take(near).clip(0.0, 1.0)
        acc = np.full_like(vs, coeffs[-1])
        for c in coeffs[-2::-1]:
            acc *= vs
            acc += c
        acc *= vs
        acc *= vs
        _put(out, near, acc)
    return out.astype(v.dtype, copy=False)


def _exp_exact_scale(a):
    """Whether x*a and x/a are exact wherever they are normal: a = 0 or a power of two."""
    return a == 0.0 or abs(float(np.frexp(a)[0])) == 0.5


def _exp_mul(x, a, k=0, out=None):
    """exp(a*x)*2**k, the rounding error of the product carried into the result.

    exp turns an error d of its argument into a relative error d: from p = fl(a*x) alone, exp(p) is off
    by up to |p|/2 ULP (370 near the underflow). With e = a*x - p exactly (Dekker), exp(a*x) =
    exp(p)*(1 + e) = exp(p) + exp(p)*e to within e**2. x is clipped to |a x| <= 746 + |k|, beyond which
    the result is 0 or +inf anyway. a a power of two (1, the defaults) makes p exact: one product and one
    exp. k (an integer, |k| < 2**12) keeps the result normal where exp(a x) alone is subnormal (x e^-|x|
    is normal down to x = -714.6, e^x only to -708.4): exp(p + k*L1)*(1 + e + k*L2) with ln 2 = L1 + L2
    (k*L1 exact) and the sum's rounding error in e too (Knuth's two-sum).
    float32 x: a is rounded to float32, the product is exact in float64 and its exp rounded once.
    a beyond 2**+-900 (Dekker's split would overflow): uncorrected (and below 2**-1014, |a x| clipped). out: as a ufunc's (x's buffer too).
    No floating-point warning.
    """
    a = float(x.dtype.type(a))
    with np.errstate(over="ignore", under="ignore"):
        plain = _exp_exact_scale(a) or not 2.0**-900 < abs(a) < 2.0**900
        if plain and not k:
            p = x if a == 1.0 else np.multiply(a, x, out=out)
            return np.exp(p, out=out)
        if x.dtype == np.float32:
            w = x.astype(np.float64)
            w *= a
            w += k * 0.6931471805599453  # rounded: |w| <= 800, far below float32's ULP in exp
            return _exp_finish(w, None, x.dtype, out)
        h = (746.0 + abs(k)) / abs(a) if a else np.inf
        if a and h == np.inf:  # |a| < 2**-1014: no finite x reaches h; clip a*x instead (+-inf times a)
            xc = x
            p = np.multiply(a, x).clip(-746.0 - abs(k), 746.0 + abs(k))
        else:
            xc = x.clip(-h, h)
            p = np.multiply(a, xc)
        e = None if plain else _two_prod_err(a, xc, p)
        if k:
            c = k * 0.6931471805592082  # L1: ln 2 to a multiple of 2**-40
            s = np.add(p, c)
            d = _two_sum_err(p, c, s)
            d += k * 7.371002565167799e-13  # L2 = ln 2 - L1
            e = d if e is None else np.add(e, d, out=e)
            p = s
        return _exp_finish(p, e, x.dtype, out)


def _exp_times(x, c, out=None):
    """c*exp(x) for a parameter c and x <= 0 (elu's branch), normal wherever the result is.

    For c > 1 the result is normal down to x = -708.4 - log(c), exp(x) alone only to -708.4: then
    (c/2**64)*(exp(x)*2**64) with _exp_mul's scale (which overflows from x = 665: not for x > 0).
    Otherwise c*exp(x), one exp and a product (c = 1, the default).
    """
    c = float(x.dtype.type(c))
    with np.errstate(over="ignore", under="ignore"):
        if 1.0 < abs(c) < 2.0**900:
            r = _exp_mul(x, 1.0, 64, out=out)
            r *= c * 2.0**-64
            return r
        r = np.exp(x, out=out)
        r *= c
        return r


def _exp_div(x, a, out=None):
    """exp(x/a), the rounding error of the quotient carried into the result (see _exp_mul).

    q = fl(x/a); x - q*a = (x - p) - e exactly, p = fl(q*a), e = q*a - p (Dekker; x - p is exact by
    Sterbenz), so x/a = q + ((x - p) - e)/a to within a rounding of that small term.
    float32 x: x/a in float64 (off by 2**-53 relative, times |x/a| <= 104 in the exp: far below
    float32's ULP), its exp rounded once.
    """
    a = float(x.dtype.type(a))
    with np.errstate(over="ignore", under="ignore"):
        if _exp_exact_scale(a) or not 2.0**-900 < abs(a) < 2.0**900:
            q = np.true_divide(x, a, out=out)
            return np.exp(q, out=q)
        if x.dtype == np.float32:
            w = x.astype(np.float64)
            w /= a
            return _exp_finish(w, None, x.dtype, out)
        h = 746.0 * abs(a)
        xc = x.clip(-h, h)
        q = np.true_divide(xc, a)
        p = np.multiply(q, a)
        e = _two_prod_err(q, a, p)
        d = np.subtract(xc, p, out=p)
        d -= e
        d /= a
        return _exp_finish(q, d, x.dtype, out)


def _expm1_div(x, a, out=None):
    """a*expm1(x/a), the rounding error of the quotient carried: a*expm1(q) + e^q*r, q = fl(x/a).

    r = x - q*a exactly (as in _exp_div, without the division by a). Besides the quotient's rounding,
    this keeps the digits where q is subnormal (|x| < 2.2e-308 a): a*q alone has lost them. a a power
    of two at most 1 (1, the default) makes q exact: a quotient, an expm1 and a product. x is clipped to
    |x/a| <= 746, beyond which expm1 is -1 or +inf anyway. float32 x: q in float64, never subnormal there.
    """
    a = float(x.dtype.type(a))
    if a == 1.0:  # before the errstate (microseconds a call): expm1 of x <= 0 (celu's, its caller) raises no flag
        return np.expm1(x, out=out)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        if (_exp_exact_scale(a) and abs(a) <= 1.0) or not 2.0**-900 < abs(a) < 2.0**900:
            q = np.true_divide(x, a, out=out)
            np.expm1(q, out=q)
            q *= a
            return q
        w = x.astype(np.float64) if x.dtype == np.float32 else x.clip(-746.0 * abs(a), 746.0 * abs(a))
        q = np.true_divide(w, a)
        r = None
        if x.dtype != np.float32:
            p = np.multiply(q, a)
            e = _two_prod_err(q, a, p)
            r = np.subtract(w, p, out=p)
            r -= e
            r *= np.exp(q).clip(-np.inf, 1.7976931348623157e308)  # not inf*0 where exp overflows
        np.expm1(q, out=q)
        q *= a
        if r is not None:
            q += r
        if out is None:
            return q.astype(x.dtype, copy=False)
        np.copyto(out, q, casting="same_kind")
        return out


def _exp_finish(p, d, dtype, out):
    """exp(p)*(1 + d) (d None: exp(p)) in p's buffer, then in out or as dtype (rounded once)."""
    np.exp(p, out=p)
    if d is not None:
        d *= p.clip(-np.inf, 1.7976931348623157e308)  # exp(p) = inf: d times the largest float (not inf*0)
        p += d
    if out is None:
        return p.astype(dtype, copy=False)
    np.copyto(out, p, casting="same_kind")
    return out


def _mask_value(c, v, value, other=0.0, out=None):
    """value where the mask c holds and other elsewhere (scalars, rounded to v's dtype), in v's dtype and
    shape, v's NaN where v is NaN: the Piecewise of two input-free values on a condition that is false at
    NaN, _where(c, value, _nan_kept(v, other)) bit for bit. other = +0.0: one cast of the mask (times
    value, plus 0.0 for a negative value, so that 0 * value is +0.0); else other's bits blended with
    value's by the mask, other ^ ((value ^ other) * c), in two passes (_where's blend of two scalars,
    written into r here: calling _where costs 3-4% of these functions' time); instead of a fill and three
    blending passes. The NaN test is one minimum reduction (as _nan_kept's). out: as _where's.
    """
    fit = out is not None and out.dtype == v.dtype and out.shape == v.shape
    r = out if fit else np.empty(v.shape, v.dtype)
    if other == 0.0 and not np.signbit(other):
        np.copyto(r, c)  # the bool -> float cast
        if value != 1.0:
            r *= value
            if value < 0.0:
                r += 0.0
    else:
        ut = np.uint64 if v.dtype == np.float64 else np.uint32
        a, b = np.asarray(value, v.dtype).view(ut), np.asarray(other, v.dtype).view(ut)
        u = r.view(ut)
        np.multiply(c, a ^ b, out=u, dtype=ut)
        u ^= b
    if v.size and np.isnan(np.minimum.reduce(v, axis=None)):
        np.copyto(r, v, where=np.isnan(v))
    if out is None or fit:
        return r
    out[...] = r
    return out


def _nan_kept(v, c, out=None):
    """_where(np.isnan(v), v, c) for a scalar c: c in an array of v's shape and dtype, v's NaN where v is
    NaN. One fill; the mask only when v holds a NaN (a minimum reduction keeps NaN). out: as _where's.
    """
    if v.size and np.isnan(np.minimum.reduce(v, axis=None)):
        return _where(np.isnan(v), v, c, out=out)
    if out is None or out.dtype != v.dtype or out.shape != v.shape:
        r = np.full_like(v, c)  # c rounded to v's dtype, as _where's np.asarray(c, dtype) does
        if out is None:
            return r
        out[...] = r
        return out
    out.fill(c)
    return out


def _where(c, a, b, out=None):
    """np.where(c, a, b) for float32/float64 values, bit for bit, without branching on c.

    NumPy's where branches per element (about 3 ns per element on unordered data); here the bits of
    a and b are blended with c as 0 or 1: b ^ ((a ^ b) * c), three passes over one buffer. out: a buffer
    for the result, which may be a or b (then read before written).
    """
    dt = np.result_type(a, b)
    if np.ndim(c) == 0 or dt not in (np.float32, np.float64):
        r = np.where(c, a, b)
        if out is None:
            return r
        out[...] = r
        return out
    ut = np.uint64 if dt == np.float64 else np.uint32
    au = np.asarray(a, dt).view(ut)
    bu = np.asarray(b, dt).view(ut)
    if out is not None and (out.dtype != dt or out.shape != np.shape(c)):
        out[...] = _where(c, a, b)  # a narrower result (float32 of float64 work): rounded once here
        return out
    m = np.bitwise_xor(au, bu, out=None if out is None else out.view(ut))
    if m.shape != np.shape(c):  # a and b scalars
        m = np.multiply(m, c, dtype=ut)
    elif bu.ndim and out is not None and np.may_share_memory(m, bu):  # b was overwritten: a ^ ((a ^ b) * ~c)
        np.multiply(m, np.logical_not(c), out=m)
        m ^= au
        return out
    else:
        np.multiply(m, c, out=m)  # a ^ b where c, 0 elsewhere
    m ^= bu
    return m.view(dt) if out is None else out


def _hypot(a, b):
    """sqrt(a**2 + b**2) without overflow or underflow (np.hypot is ~15 ns per element here).

    Computed as np.sqrt(a*a + b*b) (within ~1 ULP) where the result lies in [1e-140, 1e150] (float32:
    [1e-12, 1e15]), so neither square overflows and an underflowed square is negligible; np.hypot
    on the rest (and on NaN, so that hypot(inf, nan) = inf).
    """
    dt = np.result_type(a, b)  # a Python float does not widen float32
    if dt != np.float32 and dt != np.float64:
        return np.hypot(a, b)
    a = np.asarray(a, dt)
    b = np.asarray(b, dt)
    lo, hi = (1e-12, 1e15) if dt == np.float32 else (1e-140, 1e150)
    with np.errstate(over="ignore", under="ignore"):
        out = np.square(a)
        out = out + np.square(b)
    np.sqrt(out, out=out)
    bad = np.flatnonzero(~((out >= lo) & (out <= hi)))
    if bad.size:
        ab = np.broadcast_to(a, out.shape)
        bb = np.broadcast_to(b, out.shape)
        _put(out, bad, np.hypot(ab.take(bad), bb.take(bad)))
    return out


def _heaviside(a, h0):
    """np.heaviside(a, h0) (1 above 0, h0 at 0, 0 below, NaN for NaN) without its slow loop."""
    if h0 == 1.0:
        out = (a >= 0).astype(a.dtype)
    else:
        out = (a > 0).astype(a.dtype)
        if h0 != 0.0:
            out += np.multiply(a == 0, h0, dtype=a.dtype)
    if a.size and np.isnan(np.minimum.reduce(a, axis=None)):  # any NaN (the reduction keeps NaN): no mask pass
        np.copyto(out, a, where=np.isnan(a))
    return out
